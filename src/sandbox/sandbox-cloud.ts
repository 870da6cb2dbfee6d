import { CallEntry, readCalls } from "./call-log";
import { CloudRecord, CloudStore, DbNode, RoleAgentFault, SimState } from "./cloud-store";
import { FaultPlan, readFaultPlan, releaseHold, writeFaultPlan } from "./fault-plan";
import { Props, reveal } from "./property-values";
import { packageSpecs } from "./resource-specs";
import { hostSim } from "./resource-specs/db-roles";
import { Allocator } from "./resource-specs/spec";

// The read/write view of a simulated cloud for tests and for the operations service: what exists,
// what the provider was asked (the call log), and the facts an operation checks or changes that
// no Pulumi resource carries (a database node's role, replication lag and health; who holds a
// reserved IP; how many pods are ready). Changes made here are "out of band", like a console click.

export const TYPES = {
  droplet: "digitalocean:index/droplet:Droplet",
  databaseCluster: "digitalocean:index/databaseCluster:DatabaseCluster",
  databaseReplica: "digitalocean:index/databaseReplica:DatabaseReplica",
  reservedIp: "digitalocean:index/reservedIp:ReservedIp",
  floatingIpDo: "digitalocean:index/floatingIp:FloatingIp",
  linodeInstance: "linode:index/instance:Instance",
  hcloudServer: "hcloud:index/server:Server",
  hcloudFloatingIp: "hcloud:index/floatingIp:FloatingIp",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
} as const;

/** A database node as an operation sees it: a host with a role, or a managed cluster's node or replica. */
export interface DbNodeView {
  type: string;
  id: string;
  /** For managed cluster nodes, the node's name inside the cluster. */
  node?: string;
  name: string;
  stack: string;
  role: "primary" | "standby" | "replica";
  replicationLagSeconds: number;
  healthy: boolean;
  status?: string;
}

export type DbNodePatch = Partial<Pick<DbNodeView, "role" | "replicationLagSeconds" | "healthy" | "status">>;

export class SandboxCloud {
  readonly store: CloudStore;

  constructor(readonly dir: string) {
    this.store = new CloudStore(dir);
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): SandboxCloud {
    return new SandboxCloud(CloudStore.fromEnv(env).dir);
  }

  /** Resources of one type (or all), oldest first; optionally only one stack's. */
  list(type?: string, stack?: string): CloudRecord[] {
    return this.store.list(type).filter((r) => stack === undefined || r.stack === stack);
  }

  get(type: string, id: string): CloudRecord | undefined {
    return this.store.get(type, id);
  }

  /** The resource a program registered under this logical name (last URN segment). */
  byName(type: string, name: string, stack?: string): CloudRecord | undefined {
    return this.list(type, stack).find((r) => r.urn.endsWith(`::${name}`));
  }

  isEmpty(stack?: string): boolean {
    return this.list(undefined, stack).length === 0;
  }

  /** Number of resources per type, for summaries and assertions. */
  countByType(stack?: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.list(undefined, stack)) out[r.type] = (out[r.type] ?? 0) + 1;
    return out;
  }

  calls(): CallEntry[] {
    return readCalls(this.dir);
  }

  faults(): FaultPlan {
    return readFaultPlan(this.dir);
  }

  /** Replaces the fault plan (read by the plugins on their next call); `{}` clears it. */
  setFaults(plan: Omit<FaultPlan, "generation">): void {
    writeFaultPlan(this.dir, plan);
  }

  clearFaults(): void {
    writeFaultPlan(this.dir, {});
  }

  /** Lets the call the plan's `hold` stopped go on. */
  releaseHold(): void {
    releaseHold(this.dir);
  }

  /** Every database node the cloud knows: role-tagged hosts, managed cluster nodes, managed replicas. */
  dbNodes(stack?: string): DbNodeView[] {
    const out: DbNodeView[] = [];
    for (const r of this.list(undefined, stack)) {
      const name = String(reveal(r.outputs.name ?? r.outputs.label) ?? r.id);
      if (r.sim.nodes) {
        for (const n of r.sim.nodes)
          out.push({
            type: r.type,
            id: r.id,
            node: n.name,
            name,
            stack: r.stack,
            role: n.role,
            replicationLagSeconds: n.replicationLagSeconds,
            healthy: n.healthy,
            status: r.sim.status,
          });
      } else if (r.sim.role) {
        out.push({
          type: r.type,
          id: r.id,
          name,
          stack: r.stack,
          role: r.sim.role,
          replicationLagSeconds: r.sim.replicationLagSeconds ?? 0,
          healthy: r.sim.healthy ?? true,
          status: r.sim.status,
        });
      }
    }
    return out;
  }

  /** Sets a host's or replica's role, lag, health or status (e.g. lag 45 s to make a failover guard refuse). */
  setDbNode(type: string, id: string, patch: DbNodePatch): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => Object.assign(rec.sim, definedOnly(patch))),
      type,
      id,
    );
  }

  /**
   * Fault: the host's role agent stops acting on its tags (`stuck`), fails only to promote
   * (`promotion-fails`), or acts again (`undefined`, and it then takes the role its current tags
   * give). A retag to primary under either fault leaves its database in the role it had. With
   * STACKYARD_SANDBOX_HOSTS the rehearsed host does the same on its real server.
   */
  setRoleAgent(type: string, id: string, state: RoleAgentFault | undefined): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => {
        if (state) {
          rec.sim.roleAgent = state;
          return;
        }
        delete rec.sim.roleAgent;
        // Acting again, the agent catches up with the tags the host has now.
        const tags = reveal(rec.inputs.tags);
        if (Array.isArray(tags)) rec.sim = hostSim(rec.sim.status ?? "active", tags.map(String), rec.sim);
      }),
      type,
      id,
    );
  }

  /** Same for one node of a managed cluster, by node name (e.g. "<cluster>-2"). */
  setClusterNode(type: string, id: string, node: string, patch: Partial<DbNode>): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => {
        const n = rec.sim.nodes?.find((x) => x.name === node);
        if (!n) throw new Error(`sandbox: ${type} ${id} has no node ${node}`);
        Object.assign(n, definedOnly(patch));
      }),
      type,
      id,
    );
  }

  /** Read replicas of a managed DigitalOcean cluster. */
  replicasOf(clusterId: string): CloudRecord[] {
    return this.list(TYPES.databaseReplica).filter((r) => reveal(r.inputs.clusterId) === clusterId);
  }

  /** Who holds a reserved/floating IP now (a droplet or server id), if anyone. */
  ipHolder(type: string, ip: string): string | undefined {
    return this.store.get(type, ip)?.sim.assignedTo;
  }

  /** Desired and ready replicas of a Kubernetes workload (id `namespace/name`). */
  workloadReplicas(type: string, id: string): { replicas: number; readyReplicas: number } | undefined {
    const sim = this.store.get(type, id)?.sim;
    return sim?.replicas === undefined
      ? undefined
      : { replicas: sim.replicas, readyReplicas: sim.readyReplicas ?? 0 };
  }

  /** Simulated state of any resource (status, role, …). */
  sim(type: string, id: string): SimState | undefined {
    return this.store.get(type, id)?.sim;
  }

  setStatus(type: string, id: string, status: string): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => (rec.sim.status = status)),
      type,
      id,
    );
  }

  /** Drift: changes outputs behind the engine's back (a later refresh reports it). */
  driftOutputs(type: string, id: string, patch: Props): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => Object.assign(rec.outputs, patch)),
      type,
      id,
    );
  }

  /**
   * Drift fault: a console change. The resource's settings become `patch` (top-level properties,
   * e.g. `{ size: "s-4vcpu-8gb" }` or a new `inboundRules` list) in both what the cloud was told
   * and what it reports, as a resize or a hand-added firewall rule would leave them. A refresh then
   * reads the new values, and every preview shows the update that would put the program's back.
   */
  changeOutOfBand(type: string, id: string, patch: Props): CloudRecord {
    return this.must(
      this.store.mutate(type, id, (rec) => {
        Object.assign(rec.inputs, patch);
        Object.assign(rec.outputs, patch);
      }),
      type,
      id,
    );
  }

  /** Drift: the resource vanished (deleted in the console); a refresh drops it from state. */
  deleteOutOfBand(type: string, id: string): boolean {
    return this.store.remove(type, id);
  }

  /**
   * A resource that already exists in the cloud before any stack manages it (for `import`), e.g.
   * Insync's legacy `insync_db_backups` bucket. Only the facts given are known; on import the
   * provider takes the program's other inputs as the live values (a console-made resource whose
   * remaining settings match), and refuses the import if a given fact differs, as the engine would.
   */
  seedExisting(type: string, id: string, inputs: Props): CloudRecord {
    const pkg = type.startsWith("kubernetes:") ? "kubernetes" : type.split(":")[0]!;
    const spec = packageSpecs(pkg).resources.find((r) => r.type === type);
    if (!spec) throw new Error(`sandbox: ${type} is not simulated`);
    const ctx = {
      store: this.store,
      alloc: new Allocator(this.store),
      config: {},
      name: id,
      stack: "",
      id,
      memo: {} as Props,
    };
    const now = new Date().toISOString();
    const rec: CloudRecord = {
      package: pkg,
      type,
      id,
      urn: "",
      stack: "",
      inputs,
      outputs: { ...inputs, ...(spec.computed?.(inputs, ctx) ?? {}) },
      sim: { ...(spec.sim?.(inputs, ctx) ?? { status: "active" }), memo: ctx.memo, adoptable: true },
      createdAt: now,
      updatedAt: now,
    };
    this.store.put(rec);
    return rec;
  }

  /** The console's "disable protection" on every resource with provider-side deleteProtection. */
  disableDeleteProtection(stack?: string): number {
    let n = 0;
    for (const r of this.list(undefined, stack)) {
      if (reveal(r.outputs.deleteProtection) !== true) continue;
      this.store.mutate(r.type, r.id, (rec) => {
        rec.outputs.deleteProtection = false;
        rec.inputs.deleteProtection = false;
      });
      n++;
    }
    return n;
  }

  private must(rec: CloudRecord | undefined, type: string, id: string): CloudRecord {
    if (!rec) throw new Error(`sandbox: no ${type} with id ${id}`);
    return rec;
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
