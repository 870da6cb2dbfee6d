import { z } from "zod";
import type { SiteConfigOf } from "../site-definition";
import { adminCidrsSchema, envSchema, externalsSchema, ipv4CidrSchema, nameSchema } from "../config/common";
import { checkTopology } from "../config/db-topology";

const region = z.enum(["nyc2", "sgp1"]);
const dropletSize = z.string().regex(/^[a-z0-9-]+$/, "a DigitalOcean size slug");

/** Roles that firewalls key on. Everything else ("sentry", "ci", ...) only tags for cost tracking. */
export const INSYNC_ROLES = [
  "bastion",
  "queue",
  "web-lb",
  "web",
  "license",
  "redis",
  "dev",
  "sentry",
  "radar",
  "ci",
  "wiki",
  "forums",
  "staging",
  "mail",
  "mrkr",
] as const;

const droplet = z.strictObject({
  region,
  size: dropletSize,
  roles: z.array(z.enum(INSYNC_ROLES)).min(1),
  env: envSchema.default("prod"),
  /** Serves 80/443 to the Internet (redirects, LBs, wiki, forums, staging sites...). */
  public: z.boolean().default(false),
  hostnames: z.array(z.string()).default([]),
  /**
   * Serves 80/443 only to the site's own droplets and the admin networks (dev's private PyPI and
   * hg.insynchq.com): never to the Internet.
   */
  internal: z.boolean().default(false),
  /** Seed: "Possible candidates for removal/merging". Tagged so cost reports can find them. */
  decommissionCandidate: z.boolean().default(false),
  /** Holds data no backup elsewhere covers (conf server, hg repos, forums, sentry): protected. */
  stateful: z.boolean().default(false),
  /** Live droplet id: the droplets exist, so a real run adopts them instead of creating new ones. */
  importId: z.string().regex(/^\d+$/).optional(),
  /**
   * The live droplet's settings, declared as they are so adoption plans no replace (`monitoring` is
   * ForceNew; turning `ipv6` off is too). Defaults are DigitalOcean's for a droplet created
   * without them; `backups` defaults to on for stateful hosts.
   */
  monitoring: z.boolean().default(false),
  ipv6: z.boolean().default(false),
  backups: z.boolean().optional(),
});

/**
 * A region's network: a CIDR creates a new VPC (a fresh account); `{ ipRange, liveId }` names the
 * VPC the live droplets already sit in (`vpc_uuid` is ForceNew, so an adopted droplet must keep it).
 */
const vpcSpec = z.union([
  ipv4CidrSchema,
  z.strictObject({ ipRange: ipv4CidrSchema, liveId: z.string().regex(/^[0-9a-f-]{36}$/, "a VPC uuid") }),
]);

/**
 * Insync (seed 003): 21 existing droplets in NYC2 and SGP1; ct1 is the only SSH entry.
 * Knobs: `mysql.replicas`, `mysql.primary`. The beanstalkd mailers are processes on one droplet
 * managed through ct1's conf server, not infrastructure, so they are not a knob here.
 */
export const insyncSpecSchema = z
  .strictObject({
    env: envSchema,
    image: z.string().min(1),
    vpcs: z.strictObject({ nyc2: vpcSpec, sgp1: vpcSpec }),
    adminCidrs: adminCidrsSchema,
    bastion: z.strictObject({
      host: nameSchema,
      sshPort: z.int().min(1).max(65535),
      /** Seed: "Only accepts SSH keys". The only value: password logins are not a choice here. */
      sshAuth: z.literal("keys-only"),
      /** ct1's conf server, read by web and the mailers; the seed does not name its port. */
      confServerPort: z.int().min(1).max(65535),
    }),
    webBackendPort: z.int().min(1).max(65535),
    droplets: z.record(nameSchema, droplet),
    mysql: z.strictObject({
      primary: nameSchema,
      replicas: z.array(nameSchema).max(5).default([]),
      nodes: z.record(
        nameSchema,
        z.strictObject({
          region,
          size: dropletSize,
          importId: z.string().regex(/^\d+$/).optional(),
          /** The live node's monitoring / IPv6 (see droplets); backups stay on for database hosts. */
          monitoring: z.boolean().default(true),
          ipv6: z.boolean().default(true),
        }),
      ),
      /**
       * Private DNS the app reaches the primary by: `db-primary.<domain>` follows `mysql.primary`, so a
       * failover moves one record and web and the mailers (whose DB host is this name in ct1's conf
       * server) follow it.
       */
      privateDns: z.strictObject({ domain: z.string().min(3), ttl: z.int().min(30).default(30) }),
      backups: z.strictObject({
        bucket: z.string().min(3),
        region: z.string().min(1),
        retentionDays: z.int().min(1),
        importId: z.string().optional(),
        /**
         * Put the `retentionDays` expiry on an adopted bucket. Off by default: on the first apply it
         * would delete every backup older than that, a choice only an operator may make.
         */
        expireAdopted: z.boolean().default(false),
      }),
    }),
    externals: externalsSchema,
  })
  .superRefine((s, ctx) => {
    checkTopology(ctx, ["mysql"], Object.keys(s.mysql.nodes), s.mysql.primary, s.mysql.replicas);
    const b = s.droplets[s.bastion.host];
    if (!b) {
      ctx.addIssue({
        code: "custom",
        path: ["bastion", "host"],
        message: `bastion "${s.bastion.host}" is not a declared droplet`,
      });
    } else if (!b.roles.includes("bastion")) {
      ctx.addIssue({
        code: "custom",
        path: ["droplets", s.bastion.host, "roles"],
        message: `the bastion must carry role "bastion"`,
      });
    }
    const bastions = Object.entries(s.droplets).filter(([, d]) => d.roles.includes("bastion"));
    if (bastions.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: ["droplets"],
        message: `only one droplet may be the SSH bastion, found ${bastions.map(([n]) => n).join(", ")}`,
      });
    }
    const adopted = [...Object.entries(s.droplets), ...Object.entries(s.mysql.nodes)].filter(
      ([, d]) => d.importId !== undefined,
    );
    for (const [n, d] of adopted) {
      if (typeof s.vpcs[d.region] === "string")
        ctx.addIssue({
          code: "custom",
          path: ["vpcs", d.region],
          message: `"${n}" is adopted: give ${d.region}'s live VPC as { ipRange, liveId } (vpc_uuid is ForceNew, a new VPC would replace it)`,
        });
    }
    for (const n of Object.keys(s.mysql.nodes)) {
      if (s.droplets[n])
        ctx.addIssue({
          code: "custom",
          path: ["mysql", "nodes", n],
          message: `"${n}" is also declared under droplets`,
        });
    }
  });

export type InsyncSpec = z.infer<typeof insyncSpecSchema>;

export type InsyncConfig = SiteConfigOf<"insync", InsyncSpec>;
