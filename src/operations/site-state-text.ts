import type { SiteState } from "./site-state";

type Observed = { role: string; lagSeconds: number; healthy: boolean } | null;

const seen = (o: Observed, expected: string): string => {
  if (!o) return "unobserved";
  const health = o.healthy ? "" : ", unhealthy";
  return o.role === expected || (expected === "standby" && o.role === "replica")
    ? `${o.role}${health}`
    : `reports ${o.role}${health}`;
};

const secs = (s: number | null): string =>
  s === null ? "unknown" : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`;

/**
 * A site's state in a few lines, as `stackyard status <site>` and chat's `status <site>` print it
 * (the API answers it for `Accept: text/plain`).
 */
export function siteStateText(s: SiteState): string {
  const r = s.revision;
  const lines = [
    `${s.site}: config revision ${r.desired}, deployed revision ${r.deployed ?? "none"}${r.differ ? " (they differ)" : ""}`,
  ];
  if (s.sidekiq.available) {
    const pools = s.sidekiq.pools.map(
      (p) =>
        `${p.name} ×${p.count}${p.deployedCount !== null && p.deployedCount !== p.count ? ` (${p.deployedCount} deployed)` : ""} [${p.queues.join(",")}]`,
    );
    lines.push(`sidekiq: ${pools.join("; ")}; scheduler [${s.sidekiq.scheduler.queues.join(",")}]`);
  } else lines.push(`sidekiq: none (${s.sidekiq.reason})`);
  if (s.database.available) {
    const d = s.database;
    const standbys = d.standbys.map(
      (n) =>
        `${n.name} (${seen(n.observed, "standby")}${n.lagSeconds !== null ? `, lag ${n.lagSeconds} s` : ""})`,
    );
    const fenced = d.fenced.map(
      (n) => `${n.name} (${n.observed ? seen(n.observed, "fenced") : "unreachable"})`,
    );
    lines.push(
      `database (${d.engine}): primary ${d.primary.name} (${seen(d.primary.observed, "primary")}); standbys ${standbys.join(", ") || "none"}; fenced ${fenced.join(", ") || "none"}${d.observation.ok ? "" : ` [not observed: ${d.observation.error}]`}`,
    );
  } else lines.push(`database: none (${s.database.reason})`);
  if (s.running)
    lines.push(
      `running: ${s.running.id} ${s.running.summary} (phase ${s.running.phase ?? "starting"}, ${secs(s.running.elapsedSeconds)})`,
    );
  for (const q of s.queued)
    lines.push(
      `queued #${q.queue.position}: ${q.id} ${q.summary} (wait ~${secs(q.queue.estimatedWaitSeconds)})`,
    );
  for (const a of s.awaitingApproval) lines.push(`awaiting approval: ${a.id} ${a.summary}`);
  if (s.last)
    lines.push(
      `last: ${s.last.id} ${s.last.status} ${s.last.summary}${s.last.finishedAt ? ` at ${s.last.finishedAt}` : ""}`,
    );
  if (s.rehearsal)
    lines.push(
      `rehearsal: ${s.rehearsal.operationId} ${s.rehearsal.kind} ${s.rehearsal.status} at ${s.rehearsal.finishedAt}`,
    );
  lines.push(`operations: ${s.operations.map((o) => o.kind).join(", ")}`);
  lines.push(driftLine(s.drift));
  return lines.join("\n");
}

function driftLine(d: SiteState["drift"]): string {
  if (!d) return "drift: no detection yet (POST /v1/sites/<site>/drift, or the daily schedule)";
  if (d.resources === 0) return `drift: none at ${d.detectedAt}`;
  const found = [
    ...d.drifted.map((p) => `${p.name} ${p.property}`),
    ...d.deleted.map((r) => `${r.name} deleted`),
  ];
  return `drift: ${d.resources} resource(s) at ${d.detectedAt}: ${found.join(", ")} (${d.remediation})`;
}
