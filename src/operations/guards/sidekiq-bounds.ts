import { sidekiqKnob } from "../knobs/sidekiq-knob";
import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

/** Pool processes (the scheduler excluded) stay within the site's bounds (research §3). */
export const sidekiqBounds: Guard = {
  rule: "sidekiq-process-bounds",
  appliesTo: ["scale-sidekiq"],
  check({ site, currentConfig, plannedConfig, settings, params }) {
    const limits = settings.sidekiq;
    const knob = sidekiqKnob(plannedConfig);
    if (!limits || !knob.ok) return pass(this.rule, `${site} has no sidekiq bounds`);
    const total = Object.values(knob.spec.pools).reduce((n, p) => n + p.count, 0);
    if (total >= limits.min && total <= limits.max)
      return pass(this.rule, `${total} pool process(es) within ${limits.min}..${limits.max}`);
    // The limit as the caller can act on it: the range for the pool they scale, given the others.
    const before = sidekiqKnob(currentConfig);
    const pool = typeof params.pool === "string" ? params.pool : Object.keys(knob.spec.pools)[0]!;
    const others = before.ok
      ? Object.entries(before.spec.pools).reduce((n, [name, p]) => (name === pool ? n : n + p.count), 0)
      : 0;
    return refuse({
      rule: this.rule,
      field: "params.count",
      value: params.count ?? total,
      limit: { min: Math.max(1, limits.min - others), max: limits.max - others },
      message: `${site} sidekiq pool processes would total ${total}; allowed ${limits.min}..${limits.max} (${limits.why})`,
    });
  },
};
