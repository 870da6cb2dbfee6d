import type { SiteConfig, SiteId } from "../../programs/site-config";
import type { LiveDbNode } from "../live-db-node";
import type { OperationKind } from "../registry";
import type { OperationPlan } from "../types";
import type { Verdict } from "../verdict";
import type { SiteGuardSettings } from "./guard-settings";

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
  /** A pass may still leave a note on the record (e.g. an emergency failover outside the change window). */
  check(input: GuardInput): Verdict;
}
