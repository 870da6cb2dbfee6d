import type { SiteConfig, SiteId } from "../../programs/site-config";
import type { LiveDbNode } from "../live-db-node";
import type { OperationKind } from "../registry";
import type { OperationPlan } from "../types";
import type { SiteGuardSettings } from "./guard-settings";

/** Where a refusal came from: the operation guards, the resource policy pack, or the blast-radius check. */
export type RefusalLayer = "guard" | "policy" | "blast-radius";

/** A refusal names the rule, the value it saw and the limit it holds (DESIGN.md §2). */
export interface GuardRefusal {
  rule: string;
  value: unknown;
  limit: unknown;
  message: string;
  /** The request field to change, when one field is to blame. */
  field?: string;
}

/** A refusal as recorded on the operation and returned by the API. */
export interface RecordedRefusal extends GuardRefusal {
  layer: RefusalLayer;
}

/** A passed guard may still leave a note on the record (e.g. an emergency failover outside the change window). */
export type GuardOutcome = { ok: true; rule: string; message: string } | ({ ok: false } & GuardRefusal);

/** What the service remembers of a site's recent operations, for the guards that look back. */
export interface GuardHistory {
  /** Engine runs started on this site within the last hour (the operation being checked excluded). */
  runsLastHour: number;
}

/**
 * Everything a guard may read. Guards are pure functions of this: tests build it by hand, the
 * service fills it from the stack file, the sandbox (or live system) and the ledger.
 */
export interface GuardInput {
  site: SiteId;
  kind: OperationKind;
  params: Record<string, unknown>;
  currentConfig: SiteConfig;
  /** The config after the operation (the current one with the plan's nextSpec). */
  plannedConfig: SiteConfig;
  plan: OperationPlan<OperationKind>;
  settings: SiteGuardSettings;
  /** Live database nodes, when the caller read them (at run time, before `up`); undefined at submit. */
  dbNodes?: LiveDbNode[];
  now: Date;
  history: GuardHistory;
}

export interface Guard {
  /** The rule's stable name (returned in refusals). */
  rule: string;
  /** Which operations the guard applies to. */
  appliesTo: readonly OperationKind[] | "all";
  check(input: GuardInput): GuardOutcome;
}

export const pass = (rule: string, message: string): GuardOutcome => ({ ok: true, rule, message });
export const refuse = (r: GuardRefusal): GuardOutcome => ({ ok: false, ...r });
