import { z } from "zod";
import { nameSchema } from "./common";

/** Mastodon's queues (docs.joinmastodon.org/admin/scaling). `-q` replaces the whole list, so a fleet must name all of them. */
export const MASTODON_QUEUES = ["default", "push", "ingress", "mailers", "pull", "scheduler"] as const;

const queueSchema = z.string().regex(/^[a-z_]+$/, "a sidekiq queue name");

export interface SidekiqRules<Sized extends boolean = boolean> {
  /** Queues the fleet as a whole must cover. */
  requiredQueues: readonly string[];
  /**
   * The queue that must run in exactly one process (Mastodon's `scheduler`), or null where the
   * singleton is the sidekiq-scheduler thread rather than a queue (streampusher).
   */
  singletonQueue: string | null;
  /** Whether pools carry a droplet size (theATL runs one droplet per process). */
  sized: Sized;
}

/** Cross-field rules judge only a layout whose fields are valid (a count of -2 is one problem, not two). */
const whenFieldsValid = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };

/**
 * The sidekiq layout every Mastodon-like site shares: one dedicated scheduler process (always
 * exactly one, never scaled) beside named pools. A pool is a queue split: `count` processes
 * listening on `queues`. The scale-sidekiq operation turns `pools.<name>.count`.
 */
export function sidekiqSchema<Sized extends boolean>(
  rules: SidekiqRules<Sized>,
): z.ZodType<Sized extends true ? SidekiqSpec & { size: string } : SidekiqSpec> {
  const sizeField = rules.sized ? { size: z.string().min(1).optional() } : {};
  const pool = z.strictObject({
    // 0 keeps a queue split defined but paused (a catch-up pool scaled up only under a backlog).
    count: z.int().min(0).max(100),
    threads: z.int().min(1).max(50).default(25),
    queues: z.array(queueSchema).min(1),
    ...sizeField,
  });
  const schema = z
    .strictObject({
      ...(rules.sized ? { size: z.string().min(1) } : {}),
      scheduler: z.strictObject({
        threads: z.int().min(1).max(50).default(5),
        queues: z.array(queueSchema).min(1),
      }),
      pools: z.record(nameSchema, pool).refine((p) => Object.keys(p).length > 0, "at least one pool"),
    })
    .superRefine((s, ctx) => {
      const single = rules.singletonQueue;
      if (single !== null && !s.scheduler.queues.includes(single)) {
        ctx.addIssue({
          code: "custom",
          path: ["scheduler", "queues"],
          message: `the scheduler process must listen on "${single}"`,
        });
      }
      // Only running processes count: a paused pool (count 0) may list the singleton, and covers nothing.
      const running = Object.entries(s.pools).filter(([, p]) => p.count > 0);
      for (const [name, p] of running) {
        if (single !== null && p.queues.includes(single)) {
          ctx.addIssue({
            code: "custom",
            path: ["pools", name, "queues"],
            message: `"${single}" must run in exactly one process (the scheduler), not in pool "${name}"`,
          });
        }
      }
      const covered = new Set([...s.scheduler.queues, ...running.flatMap(([, p]) => p.queues)]);
      const missing = rules.requiredQueues.filter((q) => !covered.has(q));
      if (missing.length > 0) {
        ctx.addIssue({
          code: "custom",
          path: ["pools"],
          message: `no process listens on queue(s) ${missing.join(", ")}`,
        });
      }
    }, whenFieldsValid);
  // The conditional `size` field defeats inference; the runtime shape matches the declared type.
  return schema as unknown as z.ZodType<Sized extends true ? SidekiqSpec & { size: string } : SidekiqSpec>;
}

export interface SidekiqSpec {
  size?: string;
  scheduler: { threads: number; queues: string[] };
  pools: Record<string, { count: number; threads: number; queues: string[]; size?: string }>;
}

/** Pool processes, excluding the singleton scheduler: the number the scale operation reports. */
export function sidekiqPoolCount(s: SidekiqSpec): number {
  return Object.values(s.pools).reduce((n, p) => n + p.count, 0);
}

/**
 * The sidekiq outputs every Mastodon-style site exports: pool count, each pool's shape, and where
 * the singleton scheduler process runs (`where` names it per substrate: droplet, service, deployment).
 */
export function sidekiqOutputs(s: SidekiqSpec, where: Record<string, string>) {
  return {
    sidekiqCount: sidekiqPoolCount(s),
    sidekiqPools: Object.fromEntries(
      Object.entries(s.pools).map(([n, p]) => [n, { count: p.count, threads: p.threads, queues: p.queues }]),
    ),
    sidekiqScheduler: { ...where, queues: s.scheduler.queues, replicas: 1 },
  };
}
