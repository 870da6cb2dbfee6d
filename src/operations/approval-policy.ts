import type { SiteConfig } from "../programs/site-config";
import { costDelta } from "./guards/cost-ceiling";
import type { SiteGuardSettings } from "./guards/guard-settings";
import type { ApprovalState } from "./operation-record";
import type { OperationKind } from "./registry";
import type { OperationPlan } from "./types";

/**
 * Whether an operation is risky enough to wait for a second principal after its preview: its kind
 * is marked risky for the site (failover by default), or it raises the monthly cost by more than
 * the site's threshold. A no-op plan changes nothing and never waits.
 */
export function approvalNeed(
  config: SiteConfig,
  plan: OperationPlan<OperationKind>,
  settings: SiteGuardSettings,
): ApprovalState | undefined {
  if (plan.noop) return undefined;
  const reasons: string[] = [];
  if (settings.approvalKinds.includes(plan.kind))
    reasons.push(`${plan.kind} is marked risky for ${config.site}`);
  const delta = costDelta({
    currentConfig: config,
    plannedConfig: { ...config, spec: plan.nextSpec } as SiteConfig,
    settings,
  });
  if (delta > settings.cost.approvalDelta) {
    reasons.push(
      `raises the monthly cost by ${delta.toFixed(2)} ${settings.cost.currency}; approval above ${settings.cost.approvalDelta}`,
    );
  }
  return reasons.length > 0 ? { reasons, costDelta: delta } : undefined;
}
