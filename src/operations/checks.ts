import type { CheckResult, PreviewSummary } from "./operation-record";
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
}

/** Facts only the live system knows (the sandbox answers for the simulated clouds). */
export interface LiveFacts {
  /** Database nodes of a site, or undefined when this deployment cannot observe them. */
  dbNodes(site: string): Promise<LiveDbNode[] | undefined>;
}

export const NO_LIVE_FACTS: LiveFacts = { dbNodes: async () => undefined };

/** Evaluates an operation's live checks right before the update. */
export async function evaluateLiveChecks(site: string, checks: readonly LiveCheck[], facts: LiveFacts): Promise<CheckResult[]> {
  if (checks.length === 0) return [];
  const nodes = await facts.dbNodes(site);
  return checks.map((c) => {
    const node = nodes?.find((n) => n.name === c.node);
    if (c.kind === "primary-is") {
      if (!nodes || !node) return { rule: "primary-is", ok: true, message: `no live facts for ${c.node}; relying on config` };
      return node.role === "primary"
        ? { rule: "primary-is", ok: true, message: `${c.node} is the live primary` }
        : { rule: "primary-is", ok: false, message: `config says ${c.node} is primary but the live system reports it as ${node.role}` };
    }
    if (!node) {
      return c.acceptDataLoss
        ? { rule: "standby-ready", ok: true, message: `no live facts for ${c.node}; promoting anyway (acceptDataLoss)` }
        : { rule: "standby-ready", ok: false, message: `cannot observe standby ${c.node}; refusing to promote blind (set acceptDataLoss to override)` };
    }
    if (!node.healthy) return { rule: "standby-ready", ok: false, message: `standby ${c.node} is unhealthy` };
    if (node.replicationLagSeconds > c.maxLagSeconds && !c.acceptDataLoss) {
      return {
        rule: "standby-lag",
        ok: false,
        message: `standby ${c.node} lags ${node.replicationLagSeconds} s; the limit is ${c.maxLagSeconds} s (set acceptDataLoss to override)`,
      };
    }
    return { rule: "standby-ready", ok: true, message: `standby ${c.node} is healthy, lag ${node.replicationLagSeconds} s (limit ${c.maxLagSeconds} s)` };
  });
}
