import { z } from "zod";

export const envSchema = z.enum(["prod", "staging", "dev"]);
export type Env = z.infer<typeof envSchema>;

/** Host / pool / node names become resource names and DigitalOcean tags, so keep them DNS-safe. */
export const nameSchema = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "a lowercase DNS label");

const ipv4Cidr = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const ipv6Cidr = /^[0-9a-fA-F:]+\/\d{1,3}$/;
export const cidrSchema = z.string().refine((s) => ipv4Cidr.test(s) || ipv6Cidr.test(s), "a CIDR block");
export const ipv4CidrSchema = z.string().regex(ipv4Cidr, "an IPv4 CIDR block");
export const ipv4Schema = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, "an IPv4 address");

/** Images are pinned; a moving tag would change workloads behind the operator's back. */
export const pinnedImageSchema = z
  .string()
  .regex(/^[a-z0-9./_-]+:[A-Za-z0-9._-]+$/, "an image reference with a tag")
  .refine((s) => !s.endsWith(":latest"), "a pinned tag, not :latest");

/**
 * A non-negative revision counter the service bumps on every applied operation. The CLI writes
 * config values back as strings (`stackyard:configRevision: "3"`), so a string of digits is read too.
 */
export const configRevisionSchema = z.preprocess(
  (v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v),
  z.int().min(0),
);

/**
 * Things a site depends on that no Pulumi provider manages (BunnyCDN, Backblaze B2, updown.io,
 * netlify, an rsync target, Hetzner Robot servers). They are declared, typed and exported so the
 * inventory is complete and a policy can refuse to "forget" them; nothing is created for them.
 */
export const externalSchema = z.strictObject({
  name: nameSchema,
  kind: z.enum([
    "cdn",
    "object-storage",
    "monitoring",
    "static-hosting",
    "backup-target",
    "dedicated-server",
    "dns",
    "ci",
    "cluster-addon",
    "s3-bucket",
    "vpn",
  ]),
  vendor: z.string().min(1),
  purpose: z.string().min(1),
  hostnames: z.array(z.string().min(1)).default([]),
  endpoint: z.string().optional(),
  /** Monthly cost as a fixed line item for the cost policy, in the vendor's currency. */
  monthlyCost: z.strictObject({ amount: z.number().min(0), currency: z.enum(["USD", "EUR"]) }).optional(),
  /** Server facts for `dedicated-server` entries (Hetzner Robot). */
  server: z
    .strictObject({
      location: z.string(),
      ipv4: ipv4Schema,
      ipv6: z.string(),
      vpnIp: ipv4Schema.optional(),
      hardware: z.string().optional(),
    })
    .optional(),
});
export type External = z.infer<typeof externalSchema>;

export const externalsSchema = z
  .array(externalSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((e, i) => {
      if (seen.has(e.name))
        ctx.addIssue({ code: "custom", path: [i, "name"], message: `duplicate external "${e.name}"` });
      seen.add(e.name);
    });
  });

/** Admin networks allowed to SSH in. Never the whole Internet. */
export const adminCidrsSchema = z
  .array(cidrSchema)
  .min(1)
  .superRefine((list, ctx) => {
    list.forEach((c, i) => {
      if (c === "0.0.0.0/0" || c === "::/0") {
        ctx.addIssue({
          code: "custom",
          path: [i],
          message: "admin access must not be open to the whole Internet",
        });
      }
    });
  });
