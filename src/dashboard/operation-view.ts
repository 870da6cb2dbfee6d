import type { OperationRecord } from "../operations/operation-record";
import type { Verdict } from "../operations/verdict";
import { esc } from "./html";

/** What a viewer may do from the page: forms are shown only for what the route would allow. */
export interface PageAbilities {
  approve: boolean;
  /** The session's form token (form-token.ts), sent back with every form. */
  formToken: string;
}

/** A value of a check or a plan change, short and readable (values are numbers, strings, small objects). */
const show = (v: unknown): string => (v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v));

function verdictRows(vs: readonly Verdict[]): string {
  return vs
    .map(
      (v) =>
        `<tr class="${v.ok ? "succeeded" : "failed"}" data-rule="${esc(v.rule)}"><td>${esc(v.layer)}</td><td><code>${esc(v.rule)}</code></td>
<td>${v.ok ? "passed" : "refused"}</td><td>${esc(show(v.value))}</td><td>${esc(show(v.limit))}</td><td>${esc(v.message)}</td></tr>`,
    )
    .join("\n");
}

function verdictTable(id: string, title: string, vs: readonly Verdict[] | undefined, none: string): string {
  return `<h2>${esc(title)}</h2>${
    vs && vs.length > 0
      ? `<table id="${id}"><thead><tr><th>layer</th><th>rule</th><th>result</th><th>value</th><th>limit</th><th>message</th></tr></thead>
<tbody>${verdictRows(vs)}</tbody></table>`
      : `<p>${esc(none)}</p>`
  }`;
}

/** Approve and Reject buttons for one operation: plain forms, each with the session's form token. */
export function decisionForms(id: string, formToken: string): string {
  const form = (action: "approve" | "reject", label: string) =>
    `<form method="post" action="/dashboard/operations/${esc(id)}/${action}" class="decision">
<input type="hidden" name="csrf" value="${esc(formToken)}"><button type="submit" name="decision" value="${action}" data-action="${action}">${label}</button></form>`;
  return `${form("approve", "Approve")} ${form("reject", "Reject")}`;
}

function approvalSection(o: OperationRecord, can: PageAbilities): string {
  const a = o.approval;
  if (!a) return `<h2>Approval</h2><p>Not needed.</p>`;
  const rows: Array<[string, unknown]> = [
    ["why", a.reasons.join("; ")],
    ["monthly cost change", a.costDelta === undefined ? undefined : a.costDelta.toFixed(2)],
    ["requested", a.requestedAt],
    ["window closes", a.expiresAt],
    ["approved by", a.approvedBy && `${a.approvedBy} at ${a.approvedAt}`],
    ["rejected by", a.rejectedBy && `${a.rejectedBy} at ${a.rejectedAt}`],
  ];
  const list = rows
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join("");
  const buttons = o.status === "awaiting-approval" && can.approve ? decisionForms(o.id, can.formToken) : "";
  return `<h2>Approval</h2><dl id="approval">${list}</dl>${buttons}`;
}

/** The page of one operation: what was asked, planned, checked and approved, and its events live. */
export function operationBody(o: OperationRecord, can: PageAbilities): string {
  const changes = (o.plan?.changes ?? [])
    .map(
      (c) =>
        `<tr><td><code>${esc(c.path)}</code></td><td>${esc(show(c.from))}</td><td>${esc(show(c.to))}</td></tr>`,
    )
    .join("\n");
  const steps = (o.preview?.steps ?? [])
    .map((s) => `<tr><td>${esc(s.op)}</td><td>${esc(s.type)}</td><td><code>${esc(s.urn)}</code></td></tr>`)
    .join("\n");
  const counts = Object.entries(o.preview?.changes ?? {})
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");
  const t = o.timings ?? {};
  const timing = (
    [
      ["created", o.createdAt],
      ["started", o.startedAt],
      ["finished", o.finishedAt],
      ["waited in queue", t.queuedMs === undefined ? undefined : `${t.queuedMs} ms`],
      ["recovery", t.recoveryMs === undefined ? undefined : `${t.recoveryMs} ms`],
      ["preview", t.previewMs === undefined ? undefined : `${t.previewMs} ms`],
      ["up", t.upMs === undefined ? undefined : `${t.upMs} ms`],
      ["total", t.totalMs === undefined ? undefined : `${t.totalMs} ms`],
    ] as Array<[string, string | undefined]>
  )
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
    .join("");
  return `<h1>Operation <code>${esc(o.id)}</code></h1>
<dl id="summary"><dt>site</dt><dd>${esc(o.site)}</dd><dt>operation</dt><dd>${esc(o.kind)}</dd>
<dt>status</dt><dd id="status" class="${esc(o.status)}">${esc(o.status)}</dd>
<dt>requester</dt><dd>${esc(o.requester?.tokenId)}${o.requester?.via ? ` (via ${esc(o.requester.via)})` : ""}</dd>
<dt>params</dt><dd><code>${esc(JSON.stringify(o.params))}</code></dd>
${o.coalescedInto ? `<dt>carried by</dt><dd><a href="/dashboard/operations/${esc(o.coalescedInto)}">${esc(o.coalescedInto)}</a></dd>` : ""}
${o.reason ? `<dt>reason</dt><dd id="reason">${esc(o.reason)}</dd>` : ""}</dl>
<h2>Plan</h2><p id="plan">${esc(o.plan?.summary ?? "not planned")}</p>
${changes ? `<table><thead><tr><th>config path</th><th>from</th><th>to</th></tr></thead><tbody>${changes}</tbody></table>` : ""}
<h2>Preview</h2>${
    o.preview
      ? `<p>${esc(counts || "no changes")}</p><table id="steps"><thead><tr><th>step</th><th>type</th><th>resource</th></tr></thead><tbody>${steps}</tbody></table>`
      : `<p>Not previewed yet.</p>`
  }
${verdictTable("checks", "Checks", o.checks, "No checks yet.")}
${verdictTable("refusals", "Refusals", o.refusals, "None.")}
${approvalSection(o, can)}
<h2>Timings</h2><dl id="timings">${timing}</dl>
<h2>Events <small id="live">(needs JavaScript to follow live)</small></h2>
<ol id="events" data-src="/dashboard/operations/${esc(o.id)}/events"></ol>
<script src="/dashboard/assets/operation.js"></script>`;
}

/** The operations waiting for a second principal, with Approve / Reject where the viewer may decide. */
export function approvalsBody(
  ops: ReadonlyArray<{ op: OperationRecord; approve: boolean }>,
  formToken: string,
  notice?: string,
): string {
  const rows = ops
    .map(
      ({ op: o, approve }) =>
        `<tr data-operation="${esc(o.id)}"><td><a href="/dashboard/operations/${esc(o.id)}"><code>${esc(o.id)}</code></a></td><td>${esc(o.site)}</td><td>${esc(o.kind)}</td>
<td>${esc(o.plan?.summary ?? "")}</td><td>${esc(o.approval?.reasons.join("; ") ?? "")}</td><td>${esc(o.requester?.tokenId)}</td><td>${esc(o.approval?.expiresAt ?? "")}</td>
<td>${approve ? decisionForms(o.id, formToken) : "<small>you may not approve this</small>"}</td></tr>`,
    )
    .join("\n");
  return `${notice ? `<p role="status">${esc(notice)}</p>` : ""}<h1>Awaiting approval</h1>
<table id="awaiting"><thead><tr><th>id</th><th>site</th><th>operation</th><th>plan</th><th>why</th><th>requester</th><th>window closes</th><th></th></tr></thead>
<tbody>${rows || `<tr><td colspan="8">Nothing is waiting for approval.</td></tr>`}</tbody></table>`;
}
