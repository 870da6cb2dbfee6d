import type IORedis from "ioredis";
import { createLogger } from "../../src/infra/observability/logger";
import { redisClient } from "../../src/infra/redis-endpoint";
import { programFromStackConfig } from "../../src/programs/program";
import { loadServiceConfig, serviceSecrets } from "../../src/service/config";
import type { RunnerDeps } from "../../src/workers/runner-deps";
import { benchRunnerDeps } from "./bench-deps";
import { FAULT_DIR_ENV, faultableProgram } from "./fault-program";

/** The queue both layouts take operations from (one job per operation, id = operation id). */
export const BENCH_QUEUE = "bench-ops";

/**
 * What one process needs to run operations, from its environment (the service's own variables):
 * the config, a Redis client and RunnerDeps. The in-process worker builds it once; each sandboxed
 * child builds its own.
 */
export function processDeps(): { deps: RunnerDeps; redis: IORedis; close(): void } {
  const cfg = loadServiceConfig(process.env);
  if (!cfg.redis) throw new Error("REDIS_URL: the benchmark's worker needs the driver's Redis");
  const redis = redisClient(cfg.redis, { maxRetriesPerRequest: null });
  redis.on("error", () => undefined);
  const logger = createLogger({
    level: "warn",
    secrets: serviceSecrets(cfg),
    base: { pid: process.pid },
    write: (line) => process.stderr.write(line + "\n"),
  });
  const program = faultableProgram(programFromStackConfig, process.env[FAULT_DIR_ENV]);
  return { deps: benchRunnerDeps(cfg, redis, program, logger), redis, close: () => redis.disconnect() };
}
