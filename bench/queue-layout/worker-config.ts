// The settings a benchmark worker process runs with: passed in its environment (the Redis URL
// carries a password, so never on the command line), checked at the boundary.
import { z } from "zod";

export const workerConfigSchema = z.object({
  layout: z.enum(["turns", "per-stack"]),
  /** Names the process in CLIENT LIST and in the run log. */
  tag: z.string().regex(/^[a-z0-9-]+$/),
  slots: z.number().int().min(1).max(256),
  /** per-stack only: how many stacks (a Worker each). */
  stacks: z.number().int().min(1),
  minMs: z.number().int().min(0),
  maxMs: z.number().int().min(0),
  lockDurationMs: z.number().int().min(200),
  stalledIntervalMs: z.number().int().min(100),
  maxStalledCount: z.number().int().min(1),
  sweepGraceMs: z.number().int().min(100),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** The environment variables of a worker process. */
export const WORKER_ENV = { url: "QS_REDIS_URL", config: "QS_WORKER_CONFIG" } as const;

/** Parses the config from the environment; a bad value names its field. */
export function workerConfigFromEnv(env: NodeJS.ProcessEnv): { url: string; config: WorkerConfig } {
  const url = env[WORKER_ENV.url];
  if (!url) throw new Error(`${WORKER_ENV.url} is not set`);
  const parsed = workerConfigSchema.safeParse(JSON.parse(env[WORKER_ENV.config] ?? "{}"));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`${WORKER_ENV.config}.${i.path.join(".")}: ${i.message}`);
  }
  return { url, config: parsed.data };
}

/** The name of stack `i` of a run (`s00042`). */
export function stackName(i: number): string {
  return `s${String(i).padStart(5, "0")}`;
}
