import type { EngineEvent, OutputMap } from "@pulumi/pulumi/automation";
import { hasSecretSignature } from "../infra/secret-signature";

/** What an update's outcome is made of: the engine's result and its count of steps by kind. */
export interface UpSummary {
  result: string;
  resourceChanges?: Record<string, number>;
}

/** How the engine's event log writes a secret's value (the signature stays, the value never comes). */
const MASKED = "[secret]";

/** The value with every secret in it, at any depth, as `[secret]`. */
function masked(v: unknown): unknown {
  if (hasSecretSignature(v)) return MASKED;
  if (Array.isArray(v)) return v.map(masked);
  if (typeof v === "object" && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

/**
 * The outcome of an update as its own event stream tells it: the root stack's outputs (its
 * resource-outputs event) and the summary event. The Automation API's `up()` reads the same two
 * facts back with three more CLI runs after the engine ends (`stack output --json`, again with
 * `--show-secrets`, `stack history`), about 1.3 s of every operation; a session answers them from
 * here, and falls back to those CLI runs only when the stream did not carry them. Secret outputs
 * are known as secret and held as `[secret]`: the outcome never carries a secret's value.
 */
export class UpFacts {
  private stackOutputs?: OutputMap;
  private summaryEvent?: UpSummary;

  onEvent(e: EngineEvent): void {
    const out = e.resOutputsEvent?.metadata;
    if (out?.type === "pulumi:pulumi:Stack" && out.new) {
      this.stackOutputs = Object.fromEntries(
        Object.entries(out.new.outputs ?? {}).map(([k, v]) => [
          k,
          { value: masked(v), secret: hasSecretSignature(v) },
        ]),
      );
    }
    const s = e.summaryEvent as (EngineEvent["summaryEvent"] & { result?: string }) | undefined;
    if (s)
      this.summaryEvent = {
        result: s.result ?? "succeeded",
        resourceChanges: s.resourceChanges as Record<string, number>,
      };
  }

  outputs(): OutputMap | undefined {
    return this.stackOutputs;
  }

  summary(): UpSummary | undefined {
    return this.summaryEvent;
  }
}
