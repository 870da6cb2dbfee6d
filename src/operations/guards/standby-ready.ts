import type { LiveDbNode } from "../live-db-node";
import type { LiveCheck } from "../types";
import { pass, refuse, type Verdict } from "../verdict";

/**
 * Failover gate (research §2.3): the standby to promote is observed, healthy, and no further behind
 * than the limit, unless the request accepts the data loss (recorded on the operation).
 */
export function standbyReady(
  check: Extract<LiveCheck, { kind: "standby-ready" }>,
  nodes: LiveDbNode[] | undefined,
): Verdict {
  const node = nodes?.find((n) => n.name === check.node);
  if (!node) {
    return check.acceptDataLoss
      ? pass("standby-ready", `no live facts for ${check.node}; promoting anyway (acceptDataLoss)`)
      : refuse({
          rule: "standby-ready",
          value: "unobserved",
          limit: "observed, healthy",
          message: `cannot observe standby ${check.node}; refusing to promote blind (set acceptDataLoss to override)`,
        });
  }
  if (!node.healthy) {
    return refuse({
      rule: "standby-ready",
      value: "unhealthy",
      limit: "healthy",
      message: `standby ${check.node} is unhealthy${node.detail ? `: ${node.detail}` : ""}`,
    });
  }
  if (node.replicationLagSeconds > check.maxLagSeconds && !check.acceptDataLoss) {
    return refuse({
      rule: "standby-lag",
      value: node.replicationLagSeconds,
      limit: check.maxLagSeconds,
      message: `standby ${check.node} lags ${node.replicationLagSeconds} s; the limit is ${check.maxLagSeconds} s (set acceptDataLoss to override)`,
    });
  }
  if (
    node.replayGapBytes !== undefined &&
    node.replayGapBytes > check.maxReplayGapBytes &&
    !check.acceptDataLoss
  ) {
    return refuse({
      rule: "standby-lag",
      value: node.replayGapBytes,
      limit: check.maxReplayGapBytes,
      message: `standby ${check.node} holds ${node.replayGapBytes} bytes of WAL it has not replayed; the limit is ${check.maxReplayGapBytes} (set acceptDataLoss to override)`,
    });
  }
  return pass(
    "standby-ready",
    `standby ${check.node} is healthy, lag ${node.replicationLagSeconds} s (limit ${check.maxLagSeconds} s)`,
  );
}

/** The apps write where the config says: refuse when the live system disagrees about the primary. */
export function primaryIs(
  check: Extract<LiveCheck, { kind: "primary-is" }>,
  nodes: LiveDbNode[] | undefined,
): Verdict {
  const node = nodes?.find((n) => n.name === check.node);
  if (!nodes || !node) return pass("primary-is", `no live facts for ${check.node}; relying on config`);
  return node.role === "primary"
    ? pass("primary-is", `${check.node} is the live primary`)
    : refuse({
        rule: "primary-is",
        value: node.role,
        limit: "primary",
        message: `config says ${check.node} is primary but the live system reports it as ${node.role}`,
      });
}
