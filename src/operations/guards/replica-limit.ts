import { dbKnob } from "../knobs/db-knob";
import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

/** Read-only nodes (hot standbys included) per primary stay at or under the site's limit. */
export const replicaLimit: Guard = {
  rule: "replica-limit",
  appliesTo: ["add-read-replica"],
  check({ site, currentConfig, plannedConfig, settings }) {
    const limit = settings.replicas;
    const planned = dbKnob(plannedConfig);
    if (!limit || !planned.ok) return pass(this.rule, `${site} has no replica limit`);
    const n = planned.knob.replicas.length;
    const before = dbKnob(currentConfig);
    // A plan that does not add replicas never trips, even over a limit lowered since.
    if (n <= limit.max || (before.ok && n <= before.knob.replicas.length))
      return pass(this.rule, `${n} replica(s), at most ${limit.max}`);
    return refuse({
      rule: this.rule,
      field: "params.name",
      value: n,
      limit: limit.max,
      message: `${site} would have ${n} replicas; at most ${limit.max} (${limit.why})`,
    });
  },
};
