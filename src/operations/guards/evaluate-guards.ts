import { GuardRefusedError } from "../../errors";
import type { SiteConfig, SiteId } from "../../programs/site-config";
import type { OperationPlan } from "../types";
import { changeWindow } from "./change-window";
import { connectionBudget } from "./connection-budget";
import { costCeiling } from "./cost-ceiling";
import { guardSettingsFor, type GuardOverrides, type SiteGuardSettings } from "./guard-settings";
import type { Refusal, Verdict } from "../verdict";
import type { Guard, GuardInput } from "./guard-types";
import { operationRate } from "./operation-rate";
import { replicaLimit } from "./replica-limit";
import { schedulerSingleton } from "./scheduler-singleton";
import { sidekiqBounds } from "./sidekiq-bounds";

/** The guards on the planned config, in the order a refusal is reported (the most specific first). */
export const PLAN_GUARDS: readonly Guard[] = [
  sidekiqBounds,
  schedulerSingleton,
  replicaLimit,
  connectionBudget,
  costCeiling,
  changeWindow,
  operationRate,
];

export function plannedConfigOf(config: SiteConfig, plan: OperationPlan<string>): SiteConfig {
  return { ...config, spec: plan.nextSpec } as SiteConfig;
}

export function evaluateGuards(input: GuardInput, guards: readonly Guard[] = PLAN_GUARDS): Verdict[] {
  return guards
    .filter((g) => g.appliesTo === "all" || g.appliesTo.includes(input.kind))
    .map((g) => g.check(input));
}

export function refusalError(r: Refusal): GuardRefusedError {
  return new GuardRefusedError(r.rule, r.message, { field: r.field, value: r.value, limit: r.limit });
}

/**
 * What the guards need from the deployment: per-site settings, a clock (injected in tests), and
 * the ledger's count of recent engine runs.
 */
export interface GuardEnvironment {
  settings(site: SiteId): SiteGuardSettings;
  now(): Date;
  runsLastHour(site: string, excludeOperationId?: string): Promise<number>;
}

export function guardEnvironment(opts: {
  overrides?: GuardOverrides;
  now?: () => Date;
  runsSince?: (site: string, sinceMs: number, excludeOperationId?: string) => Promise<number>;
}): GuardEnvironment {
  const now = opts.now ?? (() => new Date());
  return {
    settings: (site) => guardSettingsFor(site, opts.overrides),
    now,
    runsLastHour: (site, exclude) =>
      opts.runsSince ? opts.runsSince(site, now().getTime() - 3600_000, exclude) : Promise.resolve(0),
  };
}
