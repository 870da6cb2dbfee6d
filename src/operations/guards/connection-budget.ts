import type { SiteConfig } from "../../programs/site-config";
import type { AppProcesses } from "../../programs/site-definition";
import { definitionFor } from "../../programs/sites";
import { sidekiqKnob } from "../knobs/sidekiq-knob";
import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

/** How many web and streaming processes a site's config runs (each holds its own database pool). */
export function appProcesses(config: SiteConfig): AppProcesses {
  return definitionFor(config).appProcesses(config.spec);
}

/** Database connections the planned layout opens, and the budget it must stay under. */
export function connectionDemand(
  config: SiteConfig,
  c: NonNullable<import("./guard-settings").SiteGuardSettings["connections"]>,
) {
  const knob = sidekiqKnob(config);
  const sidekiq = knob.ok
    ? knob.spec.scheduler.threads +
      Object.values(knob.spec.pools).reduce((n, p) => n + p.count * p.threads, 0)
    : 0;
  const apps = appProcesses(config);
  const web = apps.web * c.webConnectionsPerProcess;
  const streaming = apps.streaming * c.streamingPoolPerProcess;
  const total = sidekiq + web + streaming + c.adminReserve;
  // research §3: Σ ≤ 0.8 × (max_connections − 3 superuser-reserved).
  const budget = Math.floor(c.headroom * (c.maxConnections - 3));
  return { sidekiq, web, streaming, admin: c.adminReserve, total, budget };
}

export const connectionBudget: Guard = {
  rule: "db-connection-budget",
  appliesTo: "all",
  check({ site, plannedConfig, settings }) {
    const c = settings.connections;
    if (!c) return pass(this.rule, `${site} has no connection budget`);
    const d = connectionDemand(plannedConfig, c);
    const parts = `sidekiq ${d.sidekiq} + web ${d.web} + streaming ${d.streaming} + admin ${d.admin}`;
    if (d.total <= d.budget) return pass(this.rule, `${d.total} connections (${parts}) within ${d.budget}`);
    return refuse({
      rule: this.rule,
      value: d.total,
      limit: d.budget,
      message: `${site} would open ${d.total} database connections (${parts}); the budget is ${d.budget} = ${c.headroom} × (max_connections ${c.maxConnections} − 3)`,
    });
  },
};
