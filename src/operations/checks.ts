import type { CheckResult, PreviewSummary } from "./operation-record";
import { primaryIs, standbyReady } from "./guards/standby-ready";
import type { LiveCheck, TouchRule } from "./types";

/** Steps every update may contain: the stack itself, providers, reads and no-ops. */
const ALWAYS: TouchRule[] = [
  { ops: ["same", "read"], types: ["*"] },
  { ops: ["update", "same"], types: ["pulumi:pulumi:Stack", "pulumi:providers:*"] },
];

function matches(pattern: string, type: string): boolean {
  return pattern.endsWith("*") ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Steps of the preview that fall outside what the operation declared (empty = inside). */
export function outsideBlastRadius(steps: PreviewSummary["steps"], touches: readonly TouchRule[]): PreviewSummary["steps"] {
  const rules = [...ALWAYS, ...touches];
  return steps.filter((s) => !rules.some((r) => r.ops.includes(s.op as never) && r.types.some((t) => matches(t, s.type))));
}

/** A database node as the live system reports it. */
export interface LiveDbNode {
  name: string;
  role: "primary" | "standby" | "replica";
  replicationLagSeconds: number;
  healthy: boolean;
  /** WAL received but not yet replayed (PostgreSQL standbys); absent where the source cannot tell. */
  replayGapBytes?: number;
  /** Why the node is unhealthy, in the source's words. */
  detail?: string;
}

/** Facts only the live system knows (the sandbox answers for the simulated clouds). */
export interface LiveFacts {
  /** Database nodes of a site, or undefined when this deployment cannot observe them. */
  dbNodes(site: string): Promise<LiveDbNode[] | undefined>;
}

export const NO_LIVE_FACTS: LiveFacts = { dbNodes: async () => undefined };

/** Evaluates an operation's live checks right before the update (the failover gates of src/operations/guards/standby-ready.ts). */
export async function evaluateLiveChecks(site: string, checks: readonly LiveCheck[], facts: LiveFacts): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  const nodes = await facts.dbNodes(site);
  return checks.map((c) => {
    const o = c.kind === "primary-is" ? primaryIs(c, nodes) : standbyReady(c, nodes);
    return o.ok ? { rule: o.rule, ok: true, message: o.message } : { rule: o.rule, ok: false, message: o.message, value: o.value, limit: o.limit };
  });
}
