import type { z } from "zod";
import type { SiteConfig, SiteId } from "../programs/site-config";

// The kinds (`OperationKind`, `OPERATION_KINDS`) are derived from the definitions in registry.ts.
// The shapes here take the kind as a parameter instead of naming them: the registry imports the
// definitions, which import this file, so importing the registry here would close a cycle.

/** One knob the operation turns, as a config path under `stackyard:spec`. */
export interface PlannedChange {
  path: string;
  from: unknown;
  to: unknown;
}

/** Engine step kinds as the preview reports them. */
export type StepOp =
  | "create"
  | "update"
  | "delete"
  | "replace"
  | "create-replacement"
  | "delete-replaced"
  | "read"
  | "discard"
  | "same";

/**
 * The resources an operation may touch: the blast-radius check refuses a preview with any step
 * outside these. Types are exact Pulumi type tokens; `*` at the end matches a prefix.
 */
export interface TouchRule {
  ops: StepOp[];
  types: string[];
  /**
   * When set, only these resources of those types, each an exact URN or a logical name (the URN's
   * last segment): revert-drift touches what drifted, no more.
   */
  resources?: string[];
  /**
   * Only preview steps marked `unknownOnly` (an update that waits on another step's outputs). The
   * watch during `up` sees known values, so a real change to such a resource is still outside.
   */
  unknownOnly?: true;
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
export interface OperationPlan<K extends string> {
  kind: K;
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

/**
 * One word a chat user types after `<site>`, in order. Optional words come last; words past the
 * declared ones are ignored.
 */
export interface ChatArg<Param extends string = string> {
  /** The parameter the word fills; also its name in the usage line (`<count>`, `[pool]`). */
  param: Param;
  /** `integer`: a whole number of up to four digits. Default `word`: the text as typed. */
  type?: "integer" | "word";
  /** May be left out (shown as `[param]`); the parameter is then absent from the request. */
  optional?: true;
}

/** A declarative operation: its parameters, what it changes, what it may touch, what guards it. */
export interface OperationDefinition<K extends string, P> {
  /** The name of the operation in requests, records, token scopes and chat. */
  kind: K;
  description: string;
  /** Validates `params` of a request (strict: unknown keys are refused). */
  paramsSchema: z.ZodType<P>;
  /** When set, a request may omit `params`; it then means these. Unset: `params` is required. */
  defaultParams?: P;
  /** The chat command `<kind> <site> <args…>` (src/chatops/chat-command.ts). */
  chat: { args: readonly ChatArg<keyof P & string>[] };
  /**
   * What the operation asks of the hosts, checked after `up` before it may succeed
   * (host-convergence.ts): `db-topology`, each database host in the role the knobs give it.
   */
  hosts?: "db-topology";
  /**
   * `drift`: the run is a drift detection (src/workers/drift-run.ts): recover, a refresh preview,
   * a report; no stack-file write, no `up`, no guards (it changes nothing).
   */
  run?: "drift";
  /** Plans on the current config; throws OperationUnsupportedError or GuardRefusedError. */
  plan(config: SiteConfig, params: P): OperationPlan<K>;
}
