import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { siteLabels, type SiteContext } from "../site-context";

export interface PublicRule {
  protocol: "tcp" | "udp" | "icmp";
  port?: string;
  sourceIps: string[];
  description: string;
}

export interface HcloudPrivateNetworkArgs {
  ctx: SiteContext;
  ipRange: string;
  subnet: string;
  networkZone: string;
  /** The only inbound traffic allowed on public interfaces; everything else is dropped. */
  publicRules: PublicRule[];
}

/**
 * A Hetzner Cloud private network (replacing chitter's tinc VPN) plus a least-access firewall on
 * the public side, applied to every server carrying the site's label. Hetzner firewalls do not
 * filter private networks, so services meant for the private side only (PostgreSQL, Redis) get no
 * public rule here AND bind to their private address; both halves are needed.
 */
export class HcloudPrivateNetwork extends pulumi.ComponentResource {
  readonly networkId: pulumi.Output<number>;
  readonly subnet: hcloud.NetworkSubnet;

  constructor(name: string, args: HcloudPrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:network:HcloudPrivateNetwork", name, {}, opts);
    const child = { parent: this };
    const network = new hcloud.Network(
      name,
      { name, ipRange: args.ipRange, labels: siteLabels(args.ctx, "network") },
      child,
    );
    this.networkId = network.id.apply((id) => Number(id));
    this.subnet = new hcloud.NetworkSubnet(
      name,
      { networkId: this.networkId, type: "cloud", networkZone: args.networkZone, ipRange: args.subnet },
      child,
    );
    new hcloud.Firewall(
      `${name}-public`,
      {
        name: `${name}-public`,
        labels: siteLabels(args.ctx, "firewall"),
        applyTos: [{ labelSelector: `site=${args.ctx.site}` }],
        rules: args.publicRules.map((r) => ({
          direction: "in",
          protocol: r.protocol,
          port: r.port,
          sourceIps: r.sourceIps,
          description: r.description,
        })),
      },
      child,
    );
    this.registerOutputs({ networkId: this.networkId });
  }
}
