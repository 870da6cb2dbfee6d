import { z } from "zod";
import type { SiteConfigOf } from "../site-definition";
import {
  adminCidrsSchema,
  envSchema,
  externalsSchema,
  ipv4CidrSchema,
  ipv4Schema,
  nameSchema,
  pinnedImageSchema,
} from "../config/common";
import { MASTODON_QUEUES, sidekiqSchema } from "../config/sidekiq";

const server = z.strictObject({
  serverType: z.string().min(1),
  image: z.string().min(1),
  privateIp: ipv4Schema,
  role: z.enum(["data", "app"]),
  /** Extra block storage (GB), e.g. tempo's minio media (the seed's 3+3 TB HDD). */
  volumes: z.record(nameSchema, z.int().min(10).max(10240)).default({}),
});

/**
 * chitter.xyz (seed 001) as Hetzner Cloud servers on a private network that replaces the tinc VPN.
 * Knob: `sidekiq.pools.<pool>.count` (compose replicas on the app server).
 */
export const chitterSpecSchema = z
  .strictObject({
    env: envSchema,
    location: z.string().min(1),
    networkZone: z.string().min(1),
    network: z.strictObject({ ipRange: ipv4CidrSchema, subnet: ipv4CidrSchema }),
    adminCidrs: adminCidrsSchema,
    servers: z.record(nameSchema, server),
    /** Which server runs PostgreSQL and Redis (bound to its private address only). */
    dataHost: nameSchema,
    /** Which server runs caddy + the compose app (web, streaming, sidekiq). */
    appHost: nameSchema,
    compose: z.strictObject({
      mastodonImage: pinnedImageSchema,
      scale: z.strictObject({ web: z.int().min(1).max(8), streaming: z.int().min(1).max(8) }),
    }),
    sidekiq: sidekiqSchema({ requiredQueues: MASTODON_QUEUES, singletonQueue: "scheduler", sized: false }),
    media: z.strictObject({
      canonicalHost: z.string().min(1),
      /** Origins nginx on the data host tries, newest first. */
      origins: z
        .array(
          z.strictObject({
            name: nameSchema,
            url: z.string().url(),
            managedBy: z.enum(["stackyard", "external"]),
          }),
        )
        .min(1),
      /** URLs remote servers cached; each must keep serving or redirecting. */
      historicalHostnames: z
        .array(z.strictObject({ url: z.string().url(), behaviour: z.string().min(1) }))
        .min(1),
    }),
    aws: z.strictObject({
      region: z.string().min(1),
      deployBucket: z.string().min(3),
      outagesBucket: z.string().min(3),
    }),
    externals: externalsSchema,
  })
  .superRefine((s, ctx) => {
    for (const key of ["dataHost", "appHost"] as const) {
      if (!s.servers[s[key]]) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `"${s[key]}" is not a declared server (servers: ${Object.keys(s.servers).join(", ")})`,
        });
      }
    }
  });

export type ChitterSpec = z.infer<typeof chitterSpecSchema>;

export type ChitterConfig = SiteConfigOf<"chitter", ChitterSpec>;
