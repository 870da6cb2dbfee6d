import { sidekiqKnob } from "../knobs/sidekiq-knob";
import { pass, refuse } from "../verdict";
import type { Guard } from "./guard-types";

/** Mastodon: "the scheduler queue should never be run in more than one Sidekiq process at a time" (research §2.1). */
const SINGLETON_QUEUE = "scheduler";

/**
 * Exactly one process listens on `scheduler`: the dedicated scheduler process, never a pool
 * (`count` processes of a pool would each run the schedule). The stack file's schema refuses such
 * a layout too; this guard checks the planned config, which no schema has seen yet.
 */
export const schedulerSingleton: Guard = {
  rule: "scheduler-runs-once",
  appliesTo: "all",
  check({ site, plannedConfig }) {
    const knob = sidekiqKnob(plannedConfig);
    if (!knob.ok) return pass(this.rule, `${site} has no sidekiq`);
    const scheduler = knob.spec.scheduler.queues.includes(SINGLETON_QUEUE) ? 1 : 0;
    const inPools = Object.values(knob.spec.pools).reduce(
      (n, p) => n + (p.queues.includes(SINGLETON_QUEUE) ? p.count : 0),
      0,
    );
    const runs = scheduler + inPools;
    // A site whose schedule runs in its own sidekiq-scheduler process (streampusher) has no queue of that name.
    if (runs === 0 && knob.singletonQueue === null)
      return pass(this.rule, "the scheduler is the dedicated sidekiq-scheduler process");
    if (runs === 1) return pass(this.rule, `"${SINGLETON_QUEUE}" runs in exactly one process`);
    return refuse({
      rule: this.rule,
      value: runs,
      limit: 1,
      message: `${site}: ${runs} sidekiq processes would listen on "${SINGLETON_QUEUE}"; it must run in exactly one (Mastodon runs the schedule in every such process)`,
    });
  },
};
