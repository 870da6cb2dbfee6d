import { loadServiceConfig, serviceSecrets } from "./config";
import { createLogger } from "../infra/observability/logger";
import { programFromStackConfig } from "../programs/program";
import { startService, type Role, type ServiceParts } from "./service";
import { exploreTwin, parseTwinFlags, TwinFlagError, type TwinFlags } from "./twin-explore";

/**
 * A service process: `--role=all|api|worker` from argv, config from the environment, a graceful
 * stop on SIGTERM/SIGINT. The embedded default runs both roles; each can run alone to scale out
 * (then REDIS_URL or REDIS_SENTINELS must name the shared Redis). With `--twin-of=<site>` the
 * environment is the live service's, and the process serves a sandbox twin of that site instead.
 */
export async function runServiceProcess(parts: ServiceParts = {}): Promise<void> {
  const arg = process.argv.find((a) => a.startsWith("--role="));
  const role = (arg ? arg.slice("--role=".length) : "all") as Role;
  if (!["all", "api", "worker"].includes(role)) {
    process.stderr.write(`unknown --role=${role}; expected all, api or worker\n`);
    process.exit(2);
  }
  let twinFlags: TwinFlags | undefined;
  try {
    twinFlags = parseTwinFlags(process.argv);
    if (twinFlags && role !== "all")
      throw new TwinFlagError("--twin-of: runs API and workers together (--role=all)");
  } catch (err) {
    exitOnFlagError(err);
  }
  let cfg = loadServiceConfig();
  const logger = createLogger({
    level: cfg.logLevel,
    // A twin's settings hold no secret the live ones do not (the same passphrase, no chat or backend keys).
    secrets: serviceSecrets(cfg),
    base: { role, pid: process.pid },
  });
  if (twinFlags) {
    try {
      const twin = await exploreTwin(cfg, twinFlags, parts.program ?? programFromStackConfig, logger);
      cfg = twin.cfg;
      process.stderr.write(
        [
          `stackyard: a sandbox twin of ${twinFlags.site} in ${twin.dir} (kept; nothing you do here reaches the live site)`,
          `  CLI      STACKYARD_STATE_DIR=${twin.cfg.stateDir} ./bin/stackyard status ${twinFlags.site}`,
          `  again    npm start -- --twin-of=${twinFlags.site} --twin-dir=${twin.dir}`,
          "",
        ].join("\n"),
      );
    } catch (err) {
      exitOnFlagError(err);
    }
  }
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

/** A bad `--twin-*` flag ends the process with exit 2 and a message naming it; anything else is rethrown. */
function exitOnFlagError(err: unknown): never {
  if (!(err instanceof TwinFlagError)) throw err;
  process.stderr.write(`stackyard: ${err.message}\n`);
  process.exit(2);
}
