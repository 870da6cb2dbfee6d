import type { SiteDefinition } from "../site-definition";
import { datafruitsProgram } from "./program";
import { datafruitsPolicyDefaults } from "./policy-defaults";
import { datafruitsSpecSchema, type DatafruitsSpec } from "./spec";

/** datafruits.fm (seed 004): DigitalOcean Kubernetes, a managed PostgreSQL cluster with read-only replicas. */
export const datafruitsSite: SiteDefinition<"datafruits", DatafruitsSpec> = {
  id: "datafruits",
  specSchema: datafruitsSpecSchema,
  program: datafruitsProgram,
  clouds: { digitalocean: { objectStorage: true } },
  knobs: {
    // streampusher schedules with sidekiq-scheduler in its own process; no queue plays Mastodon's `scheduler`.
    sidekiq: (spec) => ({ ok: true, path: "sidekiq", spec: spec.sidekiq, singletonQueue: null }),
    db(spec) {
      const db = spec.database;
      return {
        ok: true,
        knob: {
          path: "database",
          engine: "managed-postgres",
          primary: db.primary,
          // The node currently serving as primary is not a read replica any more, even if declared as one.
          replicas: db.replicas.map((r) => r.name).filter((n) => n !== db.primary),
          nodes: [db.name, ...db.replicas.map((r) => r.name)],
          withReplica(name, opts) {
            const next = structuredClone(spec);
            if (!next.database.replicas.some((r) => r.name === name)) {
              next.database.replicas.push({ name, size: opts.size ?? db.size });
            }
            return next;
          },
          withoutReplica(name) {
            const next = structuredClone(spec);
            next.database.replicas = next.database.replicas.filter((r) => r.name !== name);
            return next;
          },
          withPrimary(target) {
            // A managed replica is promoted by the provider; it stays declared (the schema requires the primary to be).
            const next = structuredClone(spec);
            next.database.primary = target;
            return next;
          },
        },
      };
    },
  },
  // The streampusher API runs puma; there is no streaming server.
  appProcesses: (spec) => ({ web: spec.workloads.api.replicas, streaming: 0 }),
  monthlyCost(s, bill) {
    const pool = s.cluster.nodePool;
    bill.sized("digitalocean-droplet", `node pool ${pool.name}`, pool.size, pool.count);
    if (s.cluster.ha) bill.unit("digitalocean-doks-ha-control-plane", "DOKS HA control plane");
    // Three load balancers: the ingress controller's, RTMP ingest's and liquidsoap harbor's (both TCP).
    bill.unit("digitalocean-load-balancer", "ingress load balancer");
    bill.unit("digitalocean-load-balancer", "rtmp-ingest load balancer");
    bill.unit("digitalocean-load-balancer", "liquidsoap-harbor load balancer");
    bill.sized("digitalocean-database", s.database.name, s.database.size, s.database.nodeCount);
    for (const r of s.database.replicas) bill.sized("digitalocean-database", r.name, r.size);
    bill.sized("digitalocean-database", s.redis.name, s.redis.size);
    bill.unit("digitalocean-spaces", "spaces");
    bill.externals(s.externals);
  },
  guardDefaults: {
    sidekiq: { min: 1, max: 10, why: "worker Deployment replicas on a node pool of at most 5 nodes" },
    replicas: { max: 2, why: "managed read-only replicas capped at two for cost" },
    connections: {
      // The streampusher API runs one puma worker of 5 threads; there is no streaming server.
      webConnectionsPerProcess: 5,
      streamingPoolPerProcess: 0,
      adminReserve: 5,
      headroom: 0.8,
      maxConnections: 100,
      source:
        "assumed: the apps reach the managed cluster through its PgBouncer pool (transaction mode); db-s-1vcpu-1gb alone allows 22",
    },
    cost: {
      currency: "USD",
      monthlyCeiling: 200,
      approvalDelta: 50,
      why: "research §3 suggests $150 for a stack it estimated at $104; the modelled stack bills two TCP load balancers more ($143), so the same headroom is $200",
    },
  },
  policyDefaults: datafruitsPolicyDefaults,
  liveDb: "not-implemented",
  adoptedResources: () => [],
};
