import type { SiteState } from "../operations/site-state";
import { esc, nav, page } from "./html";

const secs = (s: number | null | undefined): string =>
  s === null || s === undefined ? "unknown" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;

const observed = (o: { role: string; lagSeconds: number; healthy: boolean } | null): string =>
  o ? `${o.role}${o.healthy ? "" : ", unhealthy"}` : "not observed";

const opLink = (id: string) => `<a href="/dashboard/operations/${esc(id)}"><code>${esc(id)}</code></a>`;

function revisionPart(s: SiteState): string {
  const r = s.revision;
  return `<p data-part="revision">Config revision <strong>${esc(r.desired)}</strong>, deployed revision
<strong>${esc(r.deployed ?? "none")}</strong>${r.differ ? ` <span class="failed">(they differ)</span>` : ""}</p>`;
}

function sidekiqPart(s: SiteState): string {
  if (!s.sidekiq.available) return `<h2>Sidekiq</h2><p>None: ${esc(s.sidekiq.reason)}</p>`;
  const rows = s.sidekiq.pools
    .map(
      (p) =>
        `<tr data-pool="${esc(p.name)}"><td>${esc(p.name)}</td><td>${esc(p.count)}</td><td>${esc(p.deployedCount ?? "unknown")}</td><td>${esc(p.threads)}</td><td>${esc(p.queues.join(", "))}</td></tr>`,
    )
    .join("\n");
  return `<h2>Sidekiq</h2>
<table><thead><tr><th>pool</th><th>processes</th><th>deployed</th><th>threads</th><th>queues</th></tr></thead>
<tbody>${rows}
<tr><td>scheduler</td><td>1</td><td></td><td>${esc(s.sidekiq.scheduler.threads)}</td><td>${esc(s.sidekiq.scheduler.queues.join(", "))}</td></tr></tbody></table>`;
}

function databasePart(s: SiteState): string {
  const d = s.database;
  if (!d.available) return `<h2>Database</h2><p>None: ${esc(d.reason)}</p>`;
  const row = (role: string, name: string, o: Parameters<typeof observed>[0], lag?: number | null) =>
    `<tr data-node="${esc(name)}"><td>${esc(role)}</td><td>${esc(name)}</td><td>${esc(observed(o))}</td><td>${lag === undefined ? "" : esc(lag === null ? "unknown" : `${lag} s`)}</td></tr>`;
  const rows = [
    row("primary", d.primary.name, d.primary.observed),
    ...d.standbys.map((n) => row("standby", n.name, n.observed, n.lagSeconds)),
    ...d.fenced.map((n) => row("fenced", n.name, n.observed)),
  ].join("\n");
  return `<h2>Database (${esc(d.engine)})</h2>
<table><thead><tr><th>role</th><th>node</th><th>the database says</th><th>lag</th></tr></thead><tbody>${rows}</tbody></table>
${d.observation.ok ? "" : `<p class="failed">Not observed: ${esc(d.observation.error)}</p>`}`;
}

function operationsPart(s: SiteState): string {
  const lines: string[] = [];
  if (s.running)
    lines.push(
      `<li class="running">running ${opLink(s.running.id)} ${esc(s.running.summary)}: phase ${esc(s.running.phase ?? "starting")}, ${esc(secs(s.running.elapsedSeconds))}</li>`,
    );
  for (const q of s.queued)
    lines.push(
      `<li class="queued">queued #${esc(q.queue.position)} ${opLink(q.id)} ${esc(q.summary)} (wait ~${esc(secs(q.queue.estimatedWaitSeconds))})</li>`,
    );
  for (const a of s.awaitingApproval)
    lines.push(
      `<li>awaiting <a href="/dashboard/approvals">approval</a>: ${opLink(a.id)} ${esc(a.summary)}</li>`,
    );
  if (s.last)
    lines.push(
      `<li class="${esc(s.last.status)}">last ${opLink(s.last.id)} ${esc(s.last.status)}: ${esc(s.last.summary)}${s.last.reason ? ` (${esc(s.last.reason)})` : ""}</li>`,
    );
  return `<h2>Operations</h2><ul data-part="operations">${lines.join("\n") || "<li>None yet.</li>"}</ul>
<p>Offered: ${s.operations.map((o) => `<code title="${esc(o.description)}">${esc(o.kind)}</code>`).join(", ")}</p>`;
}

function driftPart(s: SiteState): string {
  const d = s.drift;
  if (!d) return `<h2>Drift</h2><p>No detection yet.</p>`;
  if (d.resources === 0)
    return `<h2>Drift</h2><p>None found by ${opLink(d.operationId)} at ${esc(d.detectedAt)}.</p>`;
  const rows = [
    ...d.drifted.map(
      (p) =>
        `<tr><td>${esc(p.name)}</td><td>${esc(p.property)}</td><td><code>${esc(JSON.stringify(p.expected))}</code></td><td><code>${esc(JSON.stringify(p.found))}</code></td></tr>`,
    ),
    ...d.deleted.map((r) => `<tr><td>${esc(r.name)}</td><td colspan="3">deleted out of band</td></tr>`),
  ].join("\n");
  return `<h2>Drift</h2><p class="failed">${esc(d.resources)} resource(s), found by ${opLink(d.operationId)} at ${esc(d.detectedAt)} (${esc(d.remediation)})</p>
<table><thead><tr><th>resource</th><th>property</th><th>expected</th><th>found</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** `/dashboard/sites/:site`: the same state `GET /v1/sites/:site` answers, for people. */
export function sitePage(tokenId: string, queues: boolean, s: SiteState): string {
  return page(
    `stackyard: ${s.site}`,
    `${nav(tokenId, queues)}
<h1>${esc(s.site)}</h1>
${revisionPart(s)}
${sidekiqPart(s)}
${databasePart(s)}
${operationsPart(s)}
${driftPart(s)}`,
  );
}
