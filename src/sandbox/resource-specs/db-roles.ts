import { DbNode, SimState } from "../cloud-store";

// Self-managed database hosts (droplets, Linode instances, hcloud servers) say their role in a tag
// or label. The simulated cloud reads it so a failover that re-tags hosts shows up as a role change,
// and keeps the replication lag an operation can later set through sandbox-cloud.ts.
//
// Recognised: a tag/label value naming a database engine (pg, postgres, postgresql, mysql, db)
// together with a role word: primary|master → primary; standby|replica|slave|secondary → standby.
// Examples: role:pg-primary, role:pg-standby, role:db-primary, role:mysql-replica, db-slave02.

const ENGINE = /(pg|postgres(ql)?|mysql|mariadb|db)/;
const PRIMARY = /(primary|master)/;
const STANDBY = /(standby|replica|slave|secondary)/;

export function roleFromTags(tags: string[]): "primary" | "standby" | undefined {
  for (const raw of tags) {
    const t = raw.toLowerCase();
    if (!ENGINE.test(t)) continue;
    if (STANDBY.test(t)) return "standby";
    if (PRIMARY.test(t)) return "primary";
  }
  return undefined;
}

/** The simulated state of a host: booted, and, for database hosts, a role and a lag. */
export function hostSim(runningStatus: string, tags: string[], prior?: SimState): SimState {
  const role = roleFromTags(tags);
  const sim: SimState = { ...(prior ?? {}), status: prior?.status ?? runningStatus };
  // The host's role agent failed (a sandbox fault): the tags moved, its database did not.
  if (prior?.roleAgent === "stuck") return sim;
  if (prior?.roleAgent === "promotion-fails" && role === "primary" && prior.role !== "primary") return sim;
  if (role) {
    sim.role = role;
    sim.healthy = prior?.healthy ?? true;
    // A standby that was just promoted has no lag; a new standby starts in sync.
    sim.replicationLagSeconds = role === "primary" ? 0 : (prior?.replicationLagSeconds ?? 0);
  } else {
    delete sim.role;
    delete sim.replicationLagSeconds;
  }
  return sim;
}

/** Nodes of a managed cluster: one primary and nodeCount-1 standbys, keeping what is already known. */
export function clusterNodes(clusterName: string, nodeCount: number, prior?: DbNode[]): DbNode[] {
  const nodes: DbNode[] = [];
  for (let i = 0; i < Math.max(nodeCount, 1); i++) {
    const existing = prior?.[i];
    nodes.push(
      existing ?? {
        name: `${clusterName}-${i + 1}`,
        role: i === 0 ? "primary" : "standby",
        replicationLagSeconds: 0,
        healthy: true,
      },
    );
  }
  // If the primary was among the removed nodes, the first remaining node takes over.
  if (!nodes.some((n) => n.role === "primary")) nodes[0]!.role = "primary";
  return nodes;
}
