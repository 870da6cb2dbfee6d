import * as path from "node:path";
import { guardSettingsFor, type SiteGuardSettings } from "../../../src/operations/guards/guard-settings";
import type { GuardInput } from "../../../src/operations/guards/guard-types";
import { OPERATIONS, type OperationKind } from "../../../src/operations/registry";
import { StackFileStore } from "../../../src/operations/stack-file-store";
import type { SiteConfig, SiteId } from "../../../src/programs/site-config";
import { projectRoot } from "../../workers/support/service-harness";

const store = new StackFileStore(path.resolve(projectRoot));

/** A site's config from the repo's stack file, optionally edited (a fresh copy every call). */
export function siteConfig(site: SiteId, edit?: (spec: any) => void): SiteConfig {
  const c = store.load(site);
  edit?.(c.spec);
  return c;
}

/** Guard input for planning `kind` on `site`: the real plan, default settings unless overridden. */
export function guardInput(
  site: SiteId,
  kind: OperationKind,
  params: Record<string, unknown>,
  opts: {
    config?: SiteConfig;
    settings?: Partial<SiteGuardSettings>;
    now?: Date;
    runsLastHour?: number;
  } = {},
): GuardInput {
  const config = opts.config ?? siteConfig(site);
  const def = OPERATIONS[kind];
  const parsed = def.paramsSchema.parse(params) as Record<string, unknown>;
  const plan = def.plan(config, parsed);
  return {
    site,
    kind,
    params: parsed,
    currentConfig: config,
    plannedConfig: { ...config, spec: plan.nextSpec } as SiteConfig,
    plan,
    settings: { ...guardSettingsFor(site), ...opts.settings },
    now: opts.now ?? new Date("2026-06-03T12:00:00Z"),
    history: { runsLastHour: opts.runsLastHour ?? 0 },
  };
}
