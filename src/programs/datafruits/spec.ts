import { z } from "zod";
import type { SiteConfigOf } from "../site-definition";
import { envSchema, externalsSchema, ipv4CidrSchema, nameSchema, pinnedImageSchema } from "../config/common";
import { sidekiqSchema } from "../config/sidekiq";

const workload = (replicas: z.ZodType<number>) =>
  z.strictObject({ image: pinnedImageSchema, replicas, host: z.string().min(1) });
const scalable = z.int().min(1).max(20);
/** Single-source workloads: one DJ stream in, one RTMP ingest. Scaling them would split the source. */
const singleton = z.literal(1).default(1);

/** streampusher-api config/sidekiq.yml queues. */
export const STREAMPUSHER_QUEUES = ["default", "mailers", "monitor", "process_recordings"] as const;

/**
 * datafruits.fm (seed 004, the DOKS RFC). Knobs: `sidekiq.pools.<pool>.count` (api sidekiq
 * Deployment replicas), `database.replicas` (managed read-only replicas), `database.primary`
 * (the cluster, or a replica that was promoted out of band).
 */
export const datafruitsSpecSchema = z
  .strictObject({
    env: envSchema,
    region: z.string().min(1),
    vpc: z.strictObject({ ipRange: ipv4CidrSchema }),
    namespace: nameSchema,
    cluster: z.strictObject({
      name: nameSchema,
      /**
       * The release the cluster is created at. autoUpgrade moves it to new patch releases and the
       * program ignores changes to it afterwards; a minor upgrade is `doctl kubernetes cluster upgrade`.
       */
      version: z.string().min(1),
      /** DOKS defaults HA to true from 1.36; it costs $40/mo, so it is always explicit here. */
      ha: z.boolean(),
      nodePool: z
        .strictObject({
          name: nameSchema,
          size: z.string().min(1),
          /** Nodes to price (and to run when autoScale is off); with autoScale the autoscaler sizes the pool. */
          count: z.int().min(1).max(10),
          autoScale: z.boolean(),
          minNodes: z.int().min(1),
          maxNodes: z.int().min(1).max(10),
        })
        .refine((p) => !p.autoScale || (p.minNodes <= p.count && p.count <= p.maxNodes), {
          message: "count must lie within minNodes..maxNodes when autoScale is on",
          path: ["count"],
        }),
    }),
    workloads: z.strictObject({
      site: workload(scalable),
      admin: workload(scalable),
      api: workload(scalable),
      /** One source, no relay configured: a second icecast would have listeners and no audio. */
      icecast: workload(singleton),
      liquidsoap: workload(singleton),
      rtmp: workload(singleton),
      chat: workload(scalable),
    }),
    sidekiq: sidekiqSchema({ requiredQueues: STREAMPUSHER_QUEUES, singletonQueue: null, sized: false }),
    database: z.strictObject({
      name: nameSchema,
      version: z.string().min(1),
      size: z.string().min(1),
      nodeCount: z.int().min(1).max(3),
      primary: nameSchema,
      replicas: z
        .array(z.strictObject({ name: nameSchema, size: z.string().min(1) }))
        .max(5)
        .default([]),
    }),
    redis: z.strictObject({ name: nameSchema, version: z.string().min(1), size: z.string().min(1) }),
    spaces: z.strictObject({
      region: z.string().min(1),
      staticBucket: z.string().min(3),
      podcastsBucket: z.string().min(3),
    }),
    /** Who DigitalOcean Uptime alerts when a public endpoint is down or its certificate is expiring. */
    monitoring: z.strictObject({ alertEmails: z.array(z.email()).min(1) }),
    externals: externalsSchema,
  })
  .superRefine((s, ctx) => {
    const names = [s.database.name, ...s.database.replicas.map((r) => r.name)];
    if (!names.includes(s.database.primary)) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "primary"],
        message: `primary "${s.database.primary}" is neither the cluster nor a declared replica (known: ${names.join(", ")})`,
      });
    }
    if (new Set(names).size !== names.length) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "replicas"],
        message: "replica names must be unique and differ from the cluster",
      });
    }
  });

export type DatafruitsSpec = z.infer<typeof datafruitsSpecSchema>;

export type DatafruitsConfig = SiteConfigOf<"datafruits", DatafruitsSpec>;
