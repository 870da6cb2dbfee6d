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
] as const;

const droplet = z.strictObject({
  region,
  size: dropletSize,
  roles: z.array(z.enum(INSYNC_ROLES)).min(1),
  env: envSchema.default("prod"),
  /** Serves 80/443 to the Internet (redirects, LBs, wiki, forums, staging sites...). */
  public: z.boolean().default(false),
  hostnames: z.array(z.string()).default([]),
  /** Seed: "Possible candidates for removal/merging". Tagged so cost reports can find them. */
  decommissionCandidate: z.boolean().default(false),
  /** Holds data no backup elsewhere covers (conf server, hg repos, forums, sentry): protected. */
  stateful: z.boolean().default(false),
  /** Live droplet id: the droplets exist, so a real run adopts them instead of creating new ones. */
  importId: z.string().regex(/^\d+$/).optional(),
});

/**
 * Insync (seed 003): 21 existing droplets in NYC2 and SGP1; ct1 is the only SSH entry.
 * Knobs: `mysql.replicas`, `mysql.primary`. The beanstalkd mailers are processes on one droplet
 * managed through ct1's conf server, not infrastructure, so they are not a knob here.
 */
export const insyncSpecSchema = z
  .strictObject({
    env: envSchema,
    image: z.string().min(1),
    vpcs: z.strictObject({ nyc2: ipv4CidrSchema, sgp1: ipv4CidrSchema }),
    adminCidrs: adminCidrsSchema,
    bastion: z.strictObject({ host: nameSchema, sshPort: z.int().min(1).max(65535) }),
    webBackendPort: z.int().min(1).max(65535),
    droplets: z.record(nameSchema, droplet),
    mysql: z.strictObject({
      primary: nameSchema,
      replicas: z.array(nameSchema).max(5).default([]),
      nodes: z.record(
        nameSchema,
        z.strictObject({ region, size: dropletSize, importId: z.string().regex(/^\d+$/).optional() }),
      ),
      backups: z.strictObject({
        bucket: z.string().min(3),
        region: z.string().min(1),
        retentionDays: z.int().min(1),
        importId: z.string().optional(),
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
