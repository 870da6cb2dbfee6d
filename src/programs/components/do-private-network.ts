import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

/** An inbound allow rule. DigitalOcean Cloud Firewalls deny everything no rule allows. */
export interface InboundRule {
  protocol: "tcp" | "udp" | "icmp";
  /** "5432", "80", "3000-3001"; omitted for icmp. */
  ports?: string;
  /** Droplets carrying any of these tags may connect (resolved by DigitalOcean, so new droplets need no rule edit). */
  fromTags?: string[];
  fromCidrs?: string[];
}

export interface OutboundRule {
  protocol: "tcp" | "udp" | "icmp";
  ports?: string;
  toCidrs: string[];
}

export interface FirewallSpec {
  /** Short name; the firewall is called `<network>-<name>`. */
  name: string;
  /** Droplets with any of these tags are members (at most 5, a DigitalOcean limit). */
  targetTags: string[];
  inbound?: InboundRule[];
  outbound?: OutboundRule[];
}

export interface DoPrivateNetworkArgs {
  /** Prefix for every child name, e.g. "theatl". */
  name: string;
  /**
   * One VPC per region the site uses. `existingId` names a VPC that already exists (the one live,
   * adopted droplets sit in): it is used as is and not created.
   */
  vpcs: { region: string; ipRange: string; description?: string; existingId?: string }[];
  /**
   * Every tag a firewall names. DigitalOcean refuses a firewall that names a tag that doesn't
   * exist yet, so these are created first; role tags for every possible role (primary, standby,
   * fenced) exist even when no droplet carries them, so a failover adds no tags.
   */
  tags: string[];
  firewalls: FirewallSpec[];
}

/**
 * A private network with least-access, tag-based firewalls: VPCs, the tags firewalls key on, and
 * one firewall per access rule set. Firewalls target tags rather than droplet ids because
 * DigitalOcean allows only 10 droplet ids per firewall and tags follow scale-outs automatically.
 */
export class DoPrivateNetwork extends pulumi.ComponentResource {
  readonly vpcIds: Record<string, pulumi.Output<string>> = {};
  readonly firewallNames: string[];

  constructor(name: string, args: DoPrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:network:DoPrivateNetwork", name, {}, opts);
    for (const v of args.vpcs) {
      if (v.existingId !== undefined) {
        this.vpcIds[v.region] = pulumi.output(v.existingId);
        continue;
      }
      const vpc = new digitalocean.Vpc(
        `${args.name}-${v.region}`,
        {
          name: `${args.name}-${v.region}`,
          region: v.region,
          ipRange: v.ipRange,
          description: v.description,
        },
        { parent: this },
      );
      this.vpcIds[v.region] = vpc.id;
    }
    const tagResources = [...new Set(args.tags)].map(
      (t) =>
        new digitalocean.Tag(
          `${args.name}-tag-${t.replace(/[^a-z0-9-]/gi, "-")}`,
          { name: t },
          { parent: this },
        ),
    );
    const known = new Set(args.tags);
    this.firewallNames = [];
    for (const fw of args.firewalls) {
      const named = [...fw.targetTags, ...(fw.inbound ?? []).flatMap((r) => r.fromTags ?? [])];
      const unknown = named.filter((t) => !known.has(t));
      if (unknown.length > 0)
        throw new Error(`firewall ${fw.name} names tags that are not declared: ${unknown.join(", ")}`);
      if (fw.targetTags.length > 5)
        throw new Error(`firewall ${fw.name} targets ${fw.targetTags.length} tags; DigitalOcean allows 5`);
      const fwName = `${args.name}-${fw.name}`;
      new digitalocean.Firewall(
        fwName,
        {
          name: fwName,
          tags: fw.targetTags,
          inboundRules: (fw.inbound ?? []).map((r) => ({
            protocol: r.protocol,
            portRange: r.protocol === "icmp" ? undefined : r.ports,
            sourceTags: r.fromTags,
            sourceAddresses: r.fromCidrs,
          })),
          outboundRules: (fw.outbound ?? []).map((r) => ({
            protocol: r.protocol,
            portRange: r.protocol === "icmp" ? undefined : r.ports,
            destinationAddresses: r.toCidrs,
          })),
        },
        { parent: this, dependsOn: tagResources },
      );
      this.firewallNames.push(fwName);
    }
    this.registerOutputs({ vpcIds: this.vpcIds, firewallNames: this.firewallNames });
  }
}

/** The whole Internet, both families. */
export const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** Outbound rules that let a host reach anything (federation, package mirrors, S3, CloudWatch). */
export const OPEN_EGRESS: OutboundRule[] = [
  { protocol: "tcp", ports: "1-65535", toCidrs: ANYWHERE },
  { protocol: "udp", ports: "1-65535", toCidrs: ANYWHERE },
  { protocol: "icmp", toCidrs: ANYWHERE },
];
