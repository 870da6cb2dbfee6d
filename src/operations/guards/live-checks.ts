import type { LiveCheck } from "../types";
import type { LiveFacts } from "../live-db-node";
import type { Verdict } from "../verdict";
import { primaryIs, standbyReady } from "./standby-ready";

/** Evaluates an operation's live checks right before the update (the failover gates of src/operations/guards/standby-ready.ts). */
export async function evaluateLiveChecks(
  site: string,
  checks: readonly LiveCheck[],
  facts: LiveFacts,
): Promise<Verdict[]> {
  if (checks.length === 0) return [];
  const nodes = await facts.dbNodes(site);
  return checks.map((c) => (c.kind === "primary-is" ? primaryIs(c, nodes) : standbyReady(c, nodes)));
}
