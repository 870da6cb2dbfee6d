import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

/** At most N engine runs per site per rolling hour (a runaway script or chat loop cannot churn a site). */
export const operationRate: Guard = {
  rule: "operations-per-hour",
  appliesTo: "all",
  check({ site, settings, history }) {
    const n = history.runsLastHour + 1;
    const max = settings.maxOperationsPerHour;
    if (n <= max) return pass(this.rule, `operation ${n} of at most ${max} this hour`);
    return refuse({
      rule: this.rule,
      value: n,
      limit: max,
      message: `${site} would run ${n} operations within an hour; at most ${max}`,
    });
  },
};
