import type { CheckResult } from "../operation-record";
import type { LiveCheck } from "../types";
import type { LiveFacts } from "../live-db-node";
import { primaryIs, standbyReady } from "./standby-ready";

/** Evaluates an operation's live checks right before the update (the failover gates of src/operations/guards/standby-ready.ts). */
export async function evaluateLiveChecks(
  site: string,
  checks: readonly LiveCheck[],
  facts: LiveFacts,
): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  const nodes = await facts.dbNodes(site);
  return checks.map((c) => {
    const o = c.kind === "primary-is" ? primaryIs(c, nodes) : standbyReady(c, nodes);
    return o.ok
      ? { rule: o.rule, ok: true, message: o.message }
      : { rule: o.rule, ok: false, message: o.message, value: o.value, limit: o.limit };
  });
}
