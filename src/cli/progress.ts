import type { SseEvent } from "./sse";

/**
 * One line per engine event, with the step count of the phase (`up [2/3]`): the preview tells how
 * many steps there are, `resource-done` lines count them off while the engine works.
 */
export class ProgressRenderer {
  private planned = 0;
  private done = 0;
  private readonly started = Date.now();

  constructor(private readonly write: (line: string) => void) {}

  render(e: SseEvent): void {
    const t = `${((Date.now() - this.started) / 1000).toFixed(1).padStart(6)}s`;
    const d = e.data ?? {};
    const name = typeof d.urn === "string" ? d.urn.split("::").pop() : "";
    switch (e.event) {
      case "status":
        this.write(`${t}  status    ${d.status}${d.reason ? `  (${d.reason})` : ""}`);
        break;
      case "resource":
        if (d.phase === "preview") this.planned++;
        this.write(`${t}  ${d.phase.padEnd(8)}  ${d.op} ${d.type} ${name}`);
        break;
      case "resource-done":
        if (d.phase === "preview") break; // a preview "completes" every planned step at once: noise
        this.done++;
        this.write(`${t}  ${d.phase.padEnd(8)}  [${this.done}/${this.planned || "?"}] ${d.op} ${name} done`);
        break;
      case "resource-failed":
        this.write(`${t}  ${d.phase.padEnd(8)}  FAILED ${d.op} ${d.type} ${name}`);
        break;
      case "checks":
        for (const c of d.checks ?? [])
          this.write(`${t}  check     ${c.ok ? "ok  " : "FAIL"} ${c.rule}: ${c.message}`);
        break;
      case "summary":
        this.write(`${t}  ${String(d.phase).padEnd(8)}  summary ${JSON.stringify(d.changes ?? {})}`);
        break;
      case "diagnostic":
        this.write(`${t}  ${d.severity.padEnd(8)}  ${d.message}`);
        break;
      default:
        this.write(`${t}  ${e.event.padEnd(8)}  ${JSON.stringify(d).slice(0, 200)}`);
    }
  }
}
