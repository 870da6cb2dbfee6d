import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { siteTags, stateful, type SiteContext } from "../site-context";

export interface ManagedPostgresArgs {
  ctx: SiteContext;
  name: string;
  version: string;
  size: string;
  nodeCount: number;
  region: string;
  vpcUuid: pulumi.Input<string>;
  replicas: { name: string; size: string }[];
  /** The cluster's own name, or a replica promoted out of band (the SDK has no promote). */
  primary: string;
  /** Trusted sources for application access, e.g. `{type: "k8s", value: cluster.id}`. */
  appSources: digitalocean.types.input.DatabaseFirewallRule[];
}

/**
 * A tag no resource carries. DigitalOcean treats a database with no trusted sources as open to
 * any address, so a fenced database keeps one rule that admits nobody.
 */
export const FENCE_TAG = "stackyard-fenced";

/**
 * Managed PostgreSQL with read-only replicas. Application access (DatabaseFirewall) follows the
 * `primary` knob: the primary and the replicas admit the app, a former primary is fenced.
 */
export class ManagedPostgres extends pulumi.ComponentResource {
  readonly primaryHost: pulumi.Output<string>;
  readonly primaryPort: pulumi.Output<number>;
  /** Connection URI of the primary (carries the provider-generated password): secret. */
  readonly primaryUri: pulumi.Output<string>;
  readonly replicaHosts: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: ManagedPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:postgres:ManagedPostgres", name, {}, opts);
    const fenced = args.primary !== args.name;
    const cluster = new digitalocean.DatabaseCluster(
      args.name,
      {
        name: args.name,
        engine: "pg",
        version: args.version,
        size: args.size,
        nodeCount: args.nodeCount,
        region: args.region,
        privateNetworkUuid: args.vpcUuid,
        maintenanceWindows: [{ day: "sunday", hour: "04:00" }],
        tags: siteTags(args.ctx, fenced ? "pg-fenced" : "pg-primary"),
      },
      stateful(this),
    );
    new digitalocean.DatabaseFirewall(
      args.name,
      { clusterId: cluster.id, rules: fenced ? [{ type: "tag", value: FENCE_TAG }] : args.appSources },
      { parent: this },
    );
    let host = cluster.privateHost;
    let port = cluster.port;
    let uri = cluster.privateUri;
    for (const r of args.replicas) {
      const isPrimary = r.name === args.primary;
      const replica = new digitalocean.DatabaseReplica(
        r.name,
        {
          clusterId: cluster.id,
          name: r.name,
          size: r.size,
          region: args.region,
          privateNetworkUuid: args.vpcUuid,
          tags: siteTags(args.ctx, isPrimary ? "pg-primary" : "pg-replica"),
        },
        stateful(this),
      );
      // A replica's firewall is addressed by the replica's uuid, not the cluster id.
      new digitalocean.DatabaseFirewall(
        r.name,
        { clusterId: replica.uuid, rules: args.appSources },
        { parent: this },
      );
      if (isPrimary) {
        host = replica.privateHost;
        port = replica.port;
        uri = replica.privateUri;
      } else {
        this.replicaHosts[r.name] = replica.privateHost;
      }
    }
    this.primaryHost = host;
    this.primaryPort = port;
    this.primaryUri = pulumi.secret(uri);
    this.registerOutputs({ primaryHost: this.primaryHost, replicaHosts: this.replicaHosts });
  }
}
