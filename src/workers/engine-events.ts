import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";
import type { Ledger } from "../operations/ledger";
import type { PreviewSummary } from "../operations/operation-record";
import { redact } from "../infra/observability/redact";
import { stepValueHash } from "./preview-digest";

/**
 * Turns the engine's event stream into the operation's live log (SSE) and its summary. Only types,
 * URNs, step kinds and (redacted, truncated) diagnostics are kept: never property values.
 */
export class EngineEventRecorder {
  readonly steps: PreviewSummary["steps"] = [];
  /** Per step, a hash of the values it would set (never the values): what an approval binds. */
  readonly stepValues: string[] = [];
  readonly counts: Record<string, number> = {};
  /** Steps the engine completed ("op urn"): what an interrupted run had applied. */
  readonly applied: string[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly ledger: Ledger,
    private readonly operationId: string,
    private readonly phase: "preview" | "up" | "refresh",
    private readonly secrets: readonly string[],
  ) {}

  readonly onEvent = (e: EngineEvent): void => {
    const meta = e.resourcePreEvent?.metadata;
    if (meta) {
      this.bump(`${meta.op}`);
      if (meta.op !== "same") {
        this.steps.push({
          op: meta.op,
          type: meta.type,
          urn: meta.urn,
          ...(this.phase === "preview" && unknownOnly(meta) ? { unknownOnly: true as const } : {}),
        });
        this.stepValues.push(stepValueHash(meta, this.secrets));
        this.emit("resource", { phase: this.phase, op: meta.op, type: meta.type, urn: meta.urn });
      }
    }
    const done = e.resOutputsEvent?.metadata;
    if (done && done.op !== "same" && this.phase !== "preview") this.applied.push(`${done.op} ${done.urn}`);
    if (done && done.op !== "same")
      this.emit("resource-done", { phase: this.phase, op: done.op, type: done.type, urn: done.urn });
    const failed = e.resOpFailedEvent?.metadata;
    if (failed) {
      this.bump("failed");
      this.emit("resource-failed", { phase: this.phase, op: failed.op, type: failed.type, urn: failed.urn });
    }
    const diag = e.diagnosticEvent;
    if (diag && (diag.severity === "error" || diag.severity === "warning") && !diag.ephemeral) {
      const message = String(redact(diag.message, this.secrets)).slice(0, 500);
      this.emit("diagnostic", { phase: this.phase, severity: diag.severity, urn: diag.urn, message });
    }
    // policyPacks: the packs the engine ran on this phase (name → version), so the record shows layer 3 ran.
    if (e.summaryEvent)
      this.emit("summary", {
        phase: this.phase,
        changes: e.summaryEvent.resourceChanges,
        durationSeconds: e.summaryEvent.durationSeconds,
        policyPacks: policyPacksOf(e.summaryEvent),
      });
  };

  private bump(k: string): void {
    this.counts[k] = (this.counts[k] ?? 0) + 1;
  }

  /** Events are appended in order; a Redis hiccup loses a log line, never the operation. */
  private emit(type: string, data: Record<string, unknown>): void {
    this.chain = this.chain
      .then(() => this.ledger.event(this.operationId, type, data))
      .catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }
}

/** The CLI's JSON names the field `PolicyPacks` (keys `name|local|path`); the SDK's type says `policyPacks`. */
function policyPacksOf(summary: object): Record<string, string> | undefined {
  const raw =
    (summary as { PolicyPacks?: Record<string, string>; policyPacks?: Record<string, string> }).PolicyPacks ??
    (summary as { policyPacks?: Record<string, string> }).policyPacks;
  if (!raw) return undefined;
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k.split("|")[0]!, v]));
}

/** The engine's marker for a value not known until the step that computes it runs. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** An update whose every changed input is (or holds) an unknown: it follows from another step. */
function unknownOnly(meta: StepEventMetadata): boolean {
  if (meta.op !== "update") return false;
  const before = meta.old?.inputs ?? {};
  const after = meta.new?.inputs ?? {};
  // The provider's changed keys when it named them; else the inputs that differ.
  const keys =
    meta.diffs && meta.diffs.length > 0
      ? meta.diffs
      : Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
  return keys.length > 0 && keys.every((k) => JSON.stringify(after[k] ?? null).includes(UNKNOWN));
}
