import { z } from "zod";
import type { SiteConfigOf } from "../site-definition";
import {
  adminCidrsSchema,
  envSchema,
  externalsSchema,
  ipv4CidrSchema,
  nameSchema,
  pinnedImageSchema,
} from "../config/common";
import { checkTopology } from "../config/db-topology";
import { MASTODON_QUEUES, sidekiqSchema } from "../config/sidekiq";

const dropletSize = z.string().regex(/^[a-z0-9-]+$/, "a DigitalOcean size slug");

/**
 * theATL.social (seed 002): docker-compose daemons on DigitalOcean droplets, one role per droplet.
 * Knobs: `sidekiq.pools.<pool>.count`, `postgres.replicas`, `postgres.primary`.
 */
export const theatlSpecSchema = z
  .strictObject({
    env: envSchema,
    region: z.string().min(1),
    domain: z.string().min(1),
    image: z.string().min(1),
    mastodonImage: pinnedImageSchema,
    vpc: z.strictObject({ ipRange: ipv4CidrSchema }),
    adminCidrs: adminCidrsSchema,
    sshKeys: z.array(z.string()).default([]),
    haproxy: z.strictObject({ size: dropletSize }),
    nginx: z.strictObject({ size: dropletSize }),
    /** API + streamer on the same droplet (seed: "separate containers on same instance"). */
    web: z.strictObject({ count: z.int().min(1).max(20), size: dropletSize }),
    sidekiq: sidekiqSchema({ requiredQueues: MASTODON_QUEUES, singletonQueue: "scheduler", sized: true }),
    postgres: z.strictObject({
      version: z.string().min(1),
      primary: nameSchema,
      replicas: z.array(nameSchema).max(5).default([]),
      nodes: z.record(
        nameSchema,
        z.strictObject({ size: dropletSize, volumeGb: z.int().min(10).max(16000) }),
      ),
      /**
       * Networks outside the VPC that may reach the primary's PostgreSQL port (e.g. a reporting host).
       * The program takes what it is given; the policy pack refuses anything public.
       */
      clientCidrs: z.array(ipv4CidrSchema).default([]),
      /** seed: automated pg_dump every 30 minutes, kept in a private Spaces bucket. */
      dumps: z.strictObject({
        everyMinutes: z.int().min(5).max(1440),
        bucket: z.string().min(3),
        retentionDays: z.int().min(1),
      }),
    }),
    redis: z.strictObject({ size: dropletSize }),
    spaces: z.strictObject({
      region: z.string().min(1),
      mediaBucket: z.string().min(3),
      /** Private bucket the hosts pull their compose files and env from (stackyard-deploy.timer). */
      deployBucket: z.string().min(3),
      cdnTtlSeconds: z.int().min(60).default(3600),
    }),
    cloudwatch: z.strictObject({
      region: z.string().min(1),
      retentionDays: z.int().min(1),
      services: z.array(nameSchema).min(1),
    }),
    externals: externalsSchema,
  })
  .superRefine((s, ctx) => {
    checkTopology(ctx, ["postgres"], Object.keys(s.postgres.nodes), s.postgres.primary, s.postgres.replicas);
  });

export type TheatlSpec = z.infer<typeof theatlSpecSchema>;

export type TheatlConfig = SiteConfigOf<"theatl", TheatlSpec>;
