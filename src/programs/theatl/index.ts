import { selfManagedMoves } from "../config/db-topology";
import { MASTODON_CONNECTIONS } from "../config/mastodon";
import type { SiteDefinition } from "../site-definition";
import { theatlProgram } from "./program";
import { theatlPolicyDefaults } from "./policy-defaults";
import { theatlSpecSchema, type TheatlSpec } from "./spec";

/** theATL.social (seed 002): one role per DigitalOcean droplet, self-managed PostgreSQL with standbys. */
export const theatlSite: SiteDefinition<"theatl", TheatlSpec> = {
  id: "theatl",
  specSchema: theatlSpecSchema,
  program: theatlProgram,
  clouds: { digitalocean: { objectStorage: true }, aws: { region: (s) => s.cloudwatch.region } },
  knobs: {
    sidekiq: (spec) => ({ ok: true, path: "sidekiq", spec: spec.sidekiq, singletonQueue: "scheduler" }),
    db(spec) {
      const pg = spec.postgres;
      return {
        ok: true,
        knob: {
          path: "postgres",
          engine: "postgres",
          primary: pg.primary,
          replicas: [...pg.replicas],
          nodes: Object.keys(pg.nodes),
          withReplica(name, opts) {
            const next = structuredClone(spec);
            const primaryNode = pg.nodes[pg.primary]!;
            const existing = next.postgres.nodes[name];
            next.postgres.nodes[name] = existing ?? {
              size: opts.size ?? primaryNode.size,
              volumeGb: opts.volumeGb ?? primaryNode.volumeGb,
            };
            if (!next.postgres.replicas.includes(name)) next.postgres.replicas.push(name);
            return next;
          },
          ...selfManagedMoves(spec, "postgres"),
        },
      };
    },
  },
  // Each API droplet runs puma and the streaming server ("API + streamer", seed 002).
  appProcesses: (spec) => ({ web: spec.web.count, streaming: spec.web.count }),
  monthlyCost(s, bill) {
    bill.sized("digitalocean-droplet", "web", s.web.size, s.web.count);
    bill.sized("digitalocean-droplet", "sidekiq scheduler", s.sidekiq.size);
    for (const [pool, p] of Object.entries(s.sidekiq.pools)) {
      bill.sized("digitalocean-droplet", `sidekiq ${pool}`, p.size ?? s.sidekiq.size, p.count);
    }
    for (const [node, n] of Object.entries(s.postgres.nodes)) {
      bill.sized("digitalocean-droplet", node, n.size);
      bill.unit("digitalocean-volume-gb", `${node} volume ${n.volumeGb} GB`, n.volumeGb);
    }
    bill.sized("digitalocean-droplet", "redis", s.redis.size);
    bill.sized("digitalocean-droplet", "nginx", s.nginx.size);
    bill.sized("digitalocean-droplet", "haproxy", s.haproxy.size);
    bill.unit("digitalocean-spaces", "spaces");
    bill.externals(s.externals);
  },
  guardDefaults: {
    sidekiq: { min: 1, max: 6, why: "one droplet per process, bounded by the PostgreSQL connection budget" },
    replicas: { max: 3, why: "a hot standby plus at most two read replicas per primary" },
    connections: {
      ...MASTODON_CONNECTIONS,
      maxConnections: 250,
      source: "not in the seed; a dedicated s-4vcpu-8gb PostgreSQL host (confirm with the operators)",
    },
    cost: {
      currency: "USD",
      monthlyCeiling: 400,
      approvalDelta: 100,
      why: "research §3 starting ceiling for theATL",
    },
  },
  policyDefaults: theatlPolicyDefaults,
  liveDb: "postgresql",
  adoptedResources: () => [],
};
