import type { SiteConfig, SiteId } from "../programs/site-config";

export const OPERATION_KINDS = [
  "scale-sidekiq",
  "add-read-replica",
  "remove-read-replica",
  "failover",
] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** One knob the operation turns, as a config path under `stackyard:spec`. */
export interface PlannedChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** Engine step kinds as the preview reports them. */
export type StepOp =
  "create" | "update" | "delete" | "replace" | "create-replacement" | "delete-replaced" | "read" | "same";

/**
 * The resources an operation may touch: the blast-radius check refuses a preview with any step
 * outside these. Types are exact Pulumi type tokens; `*` at the end matches a prefix.
 */
export interface TouchRule {
  ops: StepOp[];
  types: string[];
}

/** A fact about the live system the worker checks right before `up` (it can change after planning). */
export type LiveCheck =
  | {
      kind: "standby-ready";
      node: string;
      maxLagSeconds: number;
      maxReplayGapBytes: number;
      acceptDataLoss: boolean;
    }
  | { kind: "primary-is"; node: string };

/** What an operation will do to one site: computed from the stack file, never from memory. */
export interface OperationPlan {
  kind: OperationKind;
  site: SiteId;
  summary: string;
  changes: PlannedChange[];
  /** True when the stack file already says what the operation asks for (a retry, or a repeat). */
  noop: boolean;
  /** The whole new `stackyard:spec`, written to the stack file before the update. */
  nextSpec: SiteConfig["spec"];
  touches: TouchRule[];
  liveChecks: LiveCheck[];
  /**
   * Stateful resources (by name) this operation declares it may leave unprotected; passed to the
   * policy pack's `allowUnprotected` config instead of weakening the pack.
   */
  allowUnprotected?: string[];
}

/** A declarative operation: its parameters, what it changes, what it may touch, what guards it. */
export interface OperationDefinition<P> {
  kind: OperationKind;
  description: string;
  /** Validates `params` of a request (strict: unknown keys are refused). */
  paramsSchema: import("zod").ZodType<P>;
  /** Plans on the current config; throws OperationUnsupportedError or GuardRefusedError. */
  plan(config: SiteConfig, params: P): OperationPlan;
}
