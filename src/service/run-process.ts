import { loadServiceConfig, serviceSecrets } from "./config";
import { createLogger } from "../infra/observability/logger";
import { startService, type Role, type ServiceParts } from "./service";

/**
 * A service process: `--role=all|api|worker` from argv, config from the environment, a graceful
 * stop on SIGTERM/SIGINT. The embedded default runs both roles; each can run alone to scale out
 * (then REDIS_URL or REDIS_SENTINELS must name the shared Redis).
 */
export async function runServiceProcess(parts: ServiceParts = {}): Promise<void> {
  const arg = process.argv.find((a) => a.startsWith("--role="));
  const role = (arg ? arg.slice("--role=".length) : "all") as Role;
  if (!["all", "api", "worker"].includes(role)) {
    process.stderr.write(`unknown --role=${role}; expected all, api or worker\n`);
    process.exit(2);
  }
  const cfg = loadServiceConfig();
  const logger = createLogger({
    level: cfg.logLevel,
    secrets: serviceSecrets(cfg),
    base: { role, pid: process.pid },
  });
  const running = await startService(cfg, role, logger, parts);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal, graceMs: cfg.shutdownGraceMs });
    running.stop().then(
      () => process.exit(0),
      (err) => {
        logger.error("shutdown failed", { err });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("unhandledRejection", (err) => logger.error("unhandled rejection", { err }));
}

/** Starts the process; a start-up failure exits 1 with its message. */
export function startServiceProcess(parts: ServiceParts = {}): void {
  runServiceProcess(parts).catch((err) => {
    process.stderr.write(`stackyard: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
