import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { nodeRoles, type NodeRole } from "../config/db-topology";
import { numericId, siteTags, stateful, type SiteContext } from "../site-context";

export interface DbNodeSpec {
  region: string;
  size: string;
  /** A data volume that outlives the droplet (omit where data lives on the droplet's disk). */
  volumeGb?: number;
  /** Adopt an existing droplet instead of creating one. */
  importId?: string;
  /** The live node's monitoring agent (ForceNew on DigitalOcean). @defaultValue true */
  monitoring?: boolean;
  /** The live node's IPv6 (turning it off is ForceNew). @defaultValue true */
  ipv6?: boolean;
}

export interface ReplicatedDbDropletsArgs {
  ctx: SiteContext;
  /** "pg" or "mysql": role tags read `role:<prefix>-primary|standby|fenced`. */
  rolePrefix: string;
  nodes: Record<string, DbNodeSpec>;
  primary: string;
  replicas: string[];
  image: string;
  /** Static per role family; may be an Output (e.g. a secret carrying the hosts' credentials). */
  userData?: pulumi.Input<string>;
  vpcIds: Record<string, pulumi.Input<string>>;
  sshKeys?: string[];
  /** Extra tags per derived role, e.g. `backup:automysqlbackup` on the node that runs backups. */
  extraTags?: (node: string, role: NodeRole, standbyIndex: number) => string[];
  /**
   * Private DNS: `<primaryName>` → the primary's private IP; `<replicaName>` → each standby (round
   * robin), or the primary when there is none.
   */
  dns?: { domain: pulumi.Input<string>; primaryName: string; replicaName: string; ttl: number };
  /** Existing hosts keep their image/userData; never replace a database host over them. */
  adopted?: boolean;
  /**
   * DigitalOcean installs `sshKeys` only when it creates a droplet, and a change would replace it:
   * set this where the keys of running hosts are managed on the hosts, so a new key list reaches
   * new droplets only and never replaces a database host.
   * @defaultValue false
   */
  ignoreSshKeyChanges?: boolean;
}

/**
 * A primary with streaming standbys on droplets (theATL's PostgreSQL, Insync's MySQL). Each node's
 * role comes from the two knobs `primary` and `replicas`, and is expressed only through things that
 * change in place: the node's role tag (which decides firewall membership: only `role:<p>-primary`
 * admits the app), and the private DNS records. A failover therefore never replaces a droplet; the
 * promote itself (pg_promote / STOP REPLICA) is the operation's imperative step, run before the update.
 */
export class ReplicatedDbDroplets extends pulumi.ComponentResource {
  readonly roles: Record<string, NodeRole>;
  readonly privateIps: Record<string, pulumi.Output<string>> = {};
  readonly dropletIds: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: ReplicatedDbDropletsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:db:ReplicatedDbDroplets", name, {}, opts);
    const names = Object.keys(args.nodes);
    this.roles = nodeRoles(names, args.primary, args.replicas);
    const standbys = names.filter((n) => this.roles[n] === "standby");
    const ignored = [
      ...(args.adopted ? ["image", "userData"] : []),
      ...(args.ignoreSshKeyChanges ? ["sshKeys"] : []),
    ];
    const adoptOpts: pulumi.CustomResourceOptions = ignored.length > 0 ? { ignoreChanges: ignored } : {};

    for (const node of names) {
      const spec = args.nodes[node]!;
      const role = this.roles[node]!;
      const tags = siteTags(
        args.ctx,
        `${args.rolePrefix}-${role}`,
        ...(args.extraTags?.(node, role, standbys.indexOf(node)) ?? []),
      );
      const droplet = new digitalocean.Droplet(
        node,
        {
          name: node,
          region: spec.region,
          size: spec.size,
          image: args.image,
          vpcUuid: args.vpcIds[spec.region],
          sshKeys: args.sshKeys,
          userData: args.userData,
          backups: true,
          monitoring: spec.monitoring ?? true,
          ipv6: spec.ipv6 ?? true,
          gracefulShutdown: true,
          tags,
        },
        stateful(this, { ...adoptOpts, import: spec.importId }),
      );
      this.privateIps[node] = droplet.ipv4AddressPrivate;
      this.dropletIds[node] = droplet.id;
      if (spec.volumeGb !== undefined) {
        const volume = new digitalocean.Volume(
          `${node}-data`,
          {
            name: `${node}-data`,
            region: spec.region,
            size: spec.volumeGb,
            initialFilesystemType: "ext4",
            description: `${args.rolePrefix} data for ${node}`,
            tags: siteTags(args.ctx, `${args.rolePrefix}-data`),
          },
          stateful(this),
        );
        new digitalocean.VolumeAttachment(
          `${node}-data`,
          { dropletId: numericId(droplet), volumeId: volume.id },
          { parent: this },
        );
      }
    }

    if (args.dns) {
      const d = args.dns;
      new digitalocean.DnsRecord(
        `${name}-${d.primaryName}`,
        {
          domain: d.domain,
          type: "A",
          name: d.primaryName,
          value: this.privateIps[args.primary]!,
          ttl: d.ttl,
        },
        { parent: this },
      );
      // With no standby the replica name points at the primary, so REPLICA_DB_HOST always resolves
      // and app env never has to change when replicas come and go.
      for (const s of standbys.length > 0 ? standbys : [args.primary]) {
        new digitalocean.DnsRecord(
          `${name}-${d.replicaName}-${s}`,
          { domain: d.domain, type: "A", name: d.replicaName, value: this.privateIps[s]!, ttl: d.ttl },
          { parent: this },
        );
      }
    }
    this.registerOutputs({ roles: this.roles, privateIps: this.privateIps });
  }
}
