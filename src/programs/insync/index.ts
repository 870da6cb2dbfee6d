import { selfManagedMoves } from "../config/db-topology";
import type { AdoptedResource, SiteDefinition } from "../site-definition";
import { dropletSettings, dropletTags, liveVpcId, mysqlNodeTags } from "./fleet";
import { insyncProgram } from "./program";
import { insyncPolicyDefaults } from "./policy-defaults";
import { insyncSpecSchema, type InsyncSpec } from "./spec";

const DROPLET = "digitalocean:index/droplet:Droplet";

/** Insync (seed 003): 21 DigitalOcean droplets in two regions, self-managed MySQL with replicas. */
export const insyncSite: SiteDefinition<"insync", InsyncSpec> = {
  id: "insync",
  specSchema: insyncSpecSchema,
  program: insyncProgram,
  clouds: { digitalocean: { objectStorage: false }, aws: { region: (s) => s.mysql.backups.region } },
  knobs: {
    sidekiq: () => ({
      ok: false,
      reason:
        "Insync runs no sidekiq; its beanstalkd mailers are processes on one droplet configured through ct1's conf server, not infrastructure",
    }),
    db(spec) {
      const my = spec.mysql;
      return {
        ok: true,
        knob: {
          path: "mysql",
          engine: "mysql",
          primary: my.primary,
          replicas: [...my.replicas],
          nodes: Object.keys(my.nodes),
          withReplica(name, opts) {
            const next = structuredClone(spec);
            const primaryNode = my.nodes[my.primary]!;
            // A new replica lives beside the primary (same region, so same VPC); an imported node keeps its id.
            next.mysql.nodes[name] = next.mysql.nodes[name] ?? {
              region: primaryNode.region,
              size: opts.size ?? primaryNode.size,
            };
            if (!next.mysql.replicas.includes(name)) next.mysql.replicas.push(name);
            return next;
          },
          ...selfManagedMoves(spec, "mysql"),
        },
      };
    },
  },
  // No Rails app: the PHP fleet's connections are not modelled (its guard settings have no budget).
  appProcesses: () => ({ web: 0, streaming: 0 }),
  monthlyCost(s, bill) {
    for (const [name, d] of Object.entries(s.droplets)) bill.sized("digitalocean-droplet", name, d.size);
    for (const [name, n] of Object.entries(s.mysql.nodes)) bill.sized("digitalocean-droplet", name, n.size);
    bill.externals(s.externals);
  },
  guardDefaults: {
    sidekiq: null,
    replicas: { max: 3, why: "db-slave02 plus at most two more MySQL replicas" },
    connections: null,
    // "current + 10%" (research §3) over the modelled fleet, plus one more MySQL node of the primary's size.
    cost: {
      currency: "USD",
      monthlyCeiling: 520,
      approvalDelta: 100,
      why: "the modelled fleet + 10%, with room for one more replica",
    },
  },
  policyDefaults: insyncPolicyDefaults,
  liveDb: "not-implemented",
  adoptedResources(spec) {
    const adopted: AdoptedResource[] = [];
    // A live droplet as the account holds it: what the stack file states of it (its VPC, monitoring,
    // IPv6, backups) and the tags it must carry before adoption (docs/site-programs.md, Insync).
    for (const [name, d] of Object.entries(spec.droplets)) {
      if (d.importId === undefined) continue;
      adopted.push({
        type: DROPLET,
        id: d.importId,
        inputs: {
          ...dropletSettings(spec, name),
          image: spec.image,
          vpcUuid: liveVpcId(spec, d.region),
          tags: dropletTags(spec, name),
        },
      });
    }
    for (const [name, n] of Object.entries(spec.mysql.nodes)) {
      if (n.importId === undefined) continue;
      adopted.push({
        type: DROPLET,
        id: n.importId,
        inputs: {
          name,
          region: n.region,
          size: n.size,
          image: spec.image,
          vpcUuid: liveVpcId(spec, n.region),
          backups: true,
          monitoring: n.monitoring,
          ipv6: n.ipv6,
          gracefulShutdown: true,
          tags: mysqlNodeTags(spec, name),
        },
      });
    }
    const backups = spec.mysql.backups;
    // insync_db_backups predates the program, and its "_" name could not be created anew.
    if (backups.importId)
      adopted.push({
        type: "aws:s3/bucket:Bucket",
        id: backups.importId,
        inputs: { bucket: backups.importId, region: backups.region },
      });
    return adopted;
  },
};
