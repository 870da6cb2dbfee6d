import type { SiteConfig } from "../programs/site-config";
import { evaluateGuards, plannedConfigOf, refusalError } from "./guards/evaluate-guards";
import type { SiteGuardSettings } from "./guards/guard-settings";
import { refusalsOf, type Verdict } from "./verdict";
import { OPERATIONS, type OperationKind } from "./registry";
import type { OperationPlan } from "./types";

export interface GuardContext {
  settings: SiteGuardSettings;
  now: Date;
  /** Engine runs on the site in the last hour, this operation excluded. */
  runsLastHour: number;
}

/**
 * Plans an operation and runs the operation guards on the plan (layer 2 of DESIGN.md §2). Throws
 * OperationUnsupportedError or GuardRefusedError (rule, value, limit) for the first refusal; the
 * outcomes of the guards that passed are returned for the record.
 */
export function planAndGuard(
  config: SiteConfig,
  kind: OperationKind,
  params: Record<string, unknown>,
  ctx: GuardContext,
): { plan: OperationPlan<OperationKind>; outcomes: Verdict[] } {
  const raw = OPERATIONS[kind].plan(config, params);
  // Per-site failover gate: the live check carries the site's lag limit, not the code default.
  const plan: OperationPlan<OperationKind> = {
    ...raw,
    liveChecks: raw.liveChecks.map((c) =>
      c.kind === "standby-ready" ? { ...c, ...ctx.settings.failover } : c,
    ),
  };
  // A drift detection changes nothing: no guard (window, rate, cost) has anything to say about it.
  if (OPERATIONS[kind].run === "drift") return { plan, outcomes: [] };
  const outcomes = evaluateGuards({
    site: config.site,
    kind,
    params,
    currentConfig: config,
    plannedConfig: plannedConfigOf(config, plan),
    plan,
    settings: ctx.settings,
    now: ctx.now,
    history: { runsLastHour: ctx.runsLastHour },
  });
  const refused = refusalsOf(outcomes)[0];
  if (refused) throw refusalError(refused);
  return { plan, outcomes };
}
