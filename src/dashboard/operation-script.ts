/**
 * The one script the dashboard serves (`/dashboard/assets/operation.js`, from its own origin: the
 * operation page's CSP is `script-src 'self'`, no inline script). It follows the operation's event
 * stream over the session (`/dashboard/operations/:id/events`, same origin, the cookie goes along),
 * appends one line per event with `textContent` (never markup from the stream), keeps the status
 * cell current and stops at the stream's `end`. EventSource resumes after a dropped connection
 * with `Last-Event-ID`, as the API's stream supports.
 */
export const OPERATION_SCRIPT = `"use strict";
(function () {
  var list = document.getElementById("events");
  var status = document.getElementById("status");
  var live = document.getElementById("live");
  if (!list || !list.dataset.src) return;
  var types = ${JSON.stringify([
    "status",
    "phase",
    "checks",
    "resource",
    "resource-done",
    "resource-failed",
    "diagnostic",
    "summary",
    "approved",
    "rejected",
    "cancel-requested",
    "cancel-signalled",
    "refused",
    "retry",
    "verify",
    "recovery",
    "git-pulled",
    "git-pushed",
    "git-push-failed",
    "handed-back",
    "partially-applied",
    "protection-released",
    "duplicate-finish-refused",
  ])};
  function text(type, d) {
    if (type === "status") return d.status + (d.reason ? " (" + d.reason + ")" : "");
    if (type === "phase") return d.phase;
    if (type === "resource" || type === "resource-done" || type === "resource-failed")
      return [d.phase, d.op, d.urn].filter(Boolean).join(" ");
    if (type === "checks")
      return (d.checks || []).map(function (c) { return c.rule + (c.ok ? " ok" : " refused"); }).join(", ");
    if (type === "summary") return d.phase + " " + JSON.stringify(d.changes || {});
    if (type === "diagnostic") return d.severity + ": " + d.message;
    return JSON.stringify(d).slice(0, 300);
  }
  var src = new EventSource(list.dataset.src);
  live.textContent = "following live";
  types.forEach(function (type) {
    src.addEventListener(type, function (ev) {
      var d = {};
      try { d = JSON.parse(ev.data); } catch (e) { d = {}; }
      var li = document.createElement("li");
      li.dataset.type = type;
      var t = document.createElement("code");
      t.textContent = type;
      li.appendChild(t);
      li.appendChild(document.createTextNode(" " + text(type, d)));
      list.appendChild(li);
      if (type === "status" && d.status) {
        status.textContent = d.status;
        status.className = d.status;
      }
    });
  });
  src.addEventListener("end", function () {
    src.close();
    live.textContent = "finished";
    live.dataset.state = "ended";
  });
})();
`;
