import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type IORedis from "ioredis";
import { createApp } from "../api/app";
import type { PendingCreateVerdict } from "../engine/recovery";
import { StackLock } from "../coordination/stack-lock";
import { bullConnection, redisClient } from "../infra/redis-endpoint";
import { provideRedis, type ProvidedRedis } from "../infra/redis-server";
import { ReplicaWait } from "../infra/replica-wait";
import { guardEnvironment } from "../operations/guards/evaluate-guards";
import { createLiveFacts } from "../operations/live-facts";
import { Ledger } from "../operations/ledger";
import { OperationRetention } from "../operations/retention";
import { OperationService } from "../operations/operation-service";
import { StackFileStore } from "../operations/stack-file-store";
import { installOperationMetrics } from "../metrics/operation-metrics";
import { programFromStackConfig } from "../programs/program";
import { ScaleCoalescer } from "../schedules/scale-coalescer";
import { DriftCoalescer, firstCoalescer } from "../schedules/drift-coalescer";
import { installDriftFollowUp } from "../schedules/drift-follow-up";
import { ReplyPoster } from "../chatops/reply-poster";
import { DRIFT_PRINCIPAL, driftSettingsFor } from "../operations/drift-settings";
import { DriftReports } from "../operations/drift-store";
import { openSchedules, startScheduleWorker } from "../schedules/schedule-worker";
import { seedAdoptedResources } from "../sandbox/adopted-resources";
import { installSandboxPlugins } from "../sandbox/install-plugins";
import { assertLiveHome } from "../sandbox/mode-guard";
import { SandboxCloud } from "../sandbox/sandbox-cloud";
import { StackQueues } from "../workers/stack-queues";
import { WorkerPool } from "../workers/worker-pool";
import { POLICY_PACK_DIR } from "../workers/policy-run";
import { ConfigError, serviceSecrets, type ServiceConfig } from "./config";
import { writeLocalServiceUrl, type LocalAdmin } from "../auth/local-admin-token";
import { redactOutputs } from "../infra/observability/redact";
import type { LiveFacts } from "../operations/live-db-node";
import { RunDurations } from "../operations/run-durations";
import { SiteStateReader } from "../operations/site-state";
import { announceLocalAdmin, firstRunAdmin } from "./first-run";
import { startMetricsServer } from "./metrics-server";
import type { Logger } from "../infra/observability/logger";
import { bootstrapSandboxSites } from "./sandbox-bootstrap";
import { sandboxDirFor, sandboxFacts } from "./sandbox-facts";
import { startSandboxHosts } from "./sandbox-hosts";
import { prepareSandboxWorkspace } from "./sandbox-workspace";
import { prepareTwin } from "./rehearsal-twin";
import { engineSettingsFor } from "./engine-settings";

export type Role = "all" | "api" | "worker";

export interface RunningService {
  port?: number;
  /** The single server's URL; none when the service follows a Sentinel group. */
  redisUrl?: string;
  stop(): Promise<void>;
}

/** What a caller may swap in: the site programs the engine runs (the default is the repo's own). */
export interface ServiceParts {
  program?: () => PulumiFn;
}

/** Starts the API, the workers, or both, sharing one Redis; `stop` is graceful (see WorkerPool.close). */
export async function startService(
  cfg: ServiceConfig,
  role: Role,
  logger: Logger,
  parts: ServiceParts = {},
): Promise<RunningService> {
  if (role !== "all" && !cfg.redis) {
    throw new ConfigError(
      "REDIS_URL or REDIS_SENTINELS: required when API and workers run as separate processes (they must share one Redis)",
    );
  }
  // Sandbox only, with no tokens configured: the local administrator (docs/operator-view.md, "First run").
  const localAdmin = firstRunAdmin(cfg);
  if (localAdmin) cfg = { ...cfg, tokens: [localAdmin.entry] };
  const redisHandle: ProvidedRedis = await provideRedis(cfg.redis, cfg.stateDir);
  try {
    return await startOn(redisHandle, cfg, role, logger, parts.program ?? programFromStackConfig, localAdmin);
  } catch (err) {
    // A start-up that fails after our private Redis came up must not leave that server behind.
    await redisHandle.stop();
    throw err;
  }
}

async function startOn(
  redisHandle: ProvidedRedis,
  cfg: ServiceConfig,
  role: Role,
  logger: Logger,
  program: () => PulumiFn,
  localAdmin?: LocalAdmin,
): Promise<RunningService> {
  // Live mode never runs with a PULUMI_HOME that could load a simulated provider.
  if (cfg.mode === "live") assertLiveHome(cfg.pulumiHome);
  // Fail fast when Redis is down: the API answers 503 instead of queueing writes in memory.
  const endpoint = redisHandle.endpoint;
  const redis = redisClient(endpoint, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on("error", (err) => logger.warn("redis connection", { err }));
  await ready(redis);
  if (cfg.workspaceSeedFrom && prepareSandboxWorkspace(cfg.workspaceDir, cfg.workspaceSeedFrom)) {
    logger.info("sandbox workspace created from the checkout's stack files", { workspace: cfg.workspaceDir });
  }
  const stackFiles = new StackFileStore(cfg.workspaceDir);
  const sites = cfg.sites.filter((s) => stackFiles.exists(s));
  const ledger = new Ledger(redis, new OperationRetention(redis, cfg.retentionSeconds));
  const queueConn = redisClient(endpoint, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  queueConn.on("error", () => undefined);
  const queues = new StackQueues(queueConn, redis, sites);
  const stops: Array<() => Promise<void>> = [];
  // STACKYARD_REDIS_WAIT_REPLICAS: an accepted operation is on that many replicas before 202 (WAIT blocks its own connection).
  let replicaWait: ReplicaWait | undefined;
  if (cfg.redisWait.replicas > 0) {
    const waitConn = redisClient(endpoint, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    waitConn.on("error", () => undefined);
    await ready(waitConn);
    replicaWait = new ReplicaWait(waitConn, cfg.redisWait.replicas, cfg.redisWait.timeoutMs);
  }
  installOperationMetrics();
  // One OperationService for the API and for schedule firings: the same checks and coalescing for both.
  const guards = guardEnvironment({
    overrides: cfg.policy.guardOverrides,
    runsSince: (site, since, exclude) => ledger.runsSince(site, since, exclude),
  });
  const operations = new OperationService({
    ledger,
    queue: queues,
    stackFiles,
    sites,
    idempotencyTtlSeconds: 24 * 3600,
    coalescer: firstCoalescer(new ScaleCoalescer(), new DriftCoalescer()),
    guards,
    approvalTtlMs: cfg.policy.approvalTtlMs,
    ...(replicaWait ? { replication: replicaWait } : {}),
  });
  // Operations nobody approved in time end `expired` (reads expire them too; this catches the unread).
  const sweep = setInterval(
    () => void operations.expireDue().catch((err) => logger.warn("approval sweep", { err })),
    Math.min(30_000, cfg.policy.approvalTtlMs),
  );
  sweep.unref();
  stops.push(async () => clearInterval(sweep));
  const schedules = openSchedules(queueConn, redis, operations, logger, {
    tokens: () => cfg.tokens,
    maxPerSite: cfg.schedules.maxPerSite,
  });
  // Each site's drift detection is a schedule of the service's own (docs/operations.md, "Drift").
  const driftSettings = (site: string) => driftSettingsFor(site, cfg.drift);
  for (const site of sites) {
    const d = driftSettings(site);
    await schedules.service.ensureSystem(
      site,
      "detect-drift",
      DRIFT_PRINCIPAL,
      d.enabled ? { cron: d.cron, timezone: d.timezone } : undefined,
      "drift detection (STACKYARD_DRIFT_FILE)",
    );
  }

  // Live mode reads the real PostgreSQL nodes STACKYARD_LIVE_DB_FILE names; any other site's failover gate refuses.
  // The sandbox's simulated clouds answer in every process (the site overview reads them too).
  let facts: LiveFacts =
    cfg.mode === "sandbox"
      ? sandboxFacts(cfg.sandboxDir).facts
      : createLiveFacts(cfg.liveDb, (site, node, error) =>
          logger.warn("database node unreachable for live facts", { site, node, error }),
        );
  let pool: WorkerPool | undefined;
  if (role === "all" || role === "worker") {
    let inspectPendingCreate: ((site: string, urn: string) => PendingCreateVerdict) | undefined;
    // Rehearsed hosts stop after the workers: a run finishing in its grace still verifies on them.
    let stopHosts: (() => Promise<void>) | undefined;
    if (cfg.mode === "sandbox") {
      await installSandboxPlugins(cfg.pulumiHome);
      ({ facts, inspectPendingCreate } = sandboxFacts(cfg.sandboxDir));
      if (cfg.sandboxHosts) {
        const hosts = await startSandboxHosts({
          sites,
          sandboxDir: cfg.sandboxDir,
          hosts: cfg.sandboxHosts,
          fallback: facts,
          logger,
        });
        stopHosts = () => hosts.stop();
        facts = hosts.facts;
      }
      // Each site's sandbox account starts with what its program adopts rather than creates.
      for (const site of sites) {
        const seeded = seedAdoptedResources(
          new SandboxCloud(sandboxDirFor(cfg.sandboxDir, site)),
          stackFiles.load(site),
        );
        if (seeded.length > 0)
          logger.info("sandbox account seeded with adopted resources", { stack: site, ids: seeded });
      }
    }
    const engineSettings = engineSettingsFor(cfg);
    if (cfg.sandboxBootstrap) {
      // Before any worker takes a job, so no operation meets a half-built rehearsal site.
      await bootstrapSandboxSites({
        sites,
        workspaceDir: cfg.workspaceDir,
        projectName: "stackyard",
        program,
        engine: engineSettings,
        logger,
        // The overview knows a bootstrapped site as deployed (secret outputs redacted), until an operation records its own.
        recordDeployed: async (site, outputs) => {
          if ((await ledger.siteState(site)).configRevision !== undefined) return;
          const shown = redactOutputs(outputs);
          await ledger.setSiteState(site, {
            ...(typeof shown.configRevision === "number" ? { configRevision: shown.configRevision } : {}),
            outputs: shown,
            updatedAt: new Date().toISOString(),
          });
        },
      });
    }
    const workerRedis = redisClient(endpoint, { maxRetriesPerRequest: null });
    workerRedis.on("error", () => undefined);
    pool = new WorkerPool(
      {
        ledger: new Ledger(workerRedis, new OperationRetention(workerRedis, cfg.retentionSeconds)),
        stackFiles,
        stackLock: new StackLock(workerRedis, cfg.stackLockTtlMs),
        engine: engineSettings,
        projectName: "stackyard",
        program,
        facts,
        inspectPendingCreate,
        git: cfg.git,
        logger,
        secrets: serviceSecrets(cfg),
        stackLockWaitMs: cfg.stackLockTtlMs + 10_000,
        liveEngineLockWaitMs: 60_000,
        foreignEngineLockStaleMs: 6 * 3600_000,
        guards,
        policyPacks: cfg.policy.policyPack ? [POLICY_PACK_DIR] : [],
        policyOverrides: cfg.policy.packOverrides,
        approvalTtlMs: cfg.policy.approvalTtlMs,
        hostVerify: cfg.hostVerify,
        drift: { reports: new DriftReports(workerRedis), settings: driftSettings },
        // In live mode too: a twin is a sandbox copy of the site, built and removed per rehearsal.
        rehearsal: {
          twin: (site, operationId) =>
            prepareTwin(
              { engine: engineSettings, projectName: "stackyard", program, stackFiles },
              path.join(cfg.stateDir, "rehearsals"),
              site,
              operationId,
            ),
        },
      },
      bullConnection(endpoint),
      workerRedis,
      sites,
      cfg.stall,
      logger,
    );
    await pool.start();
    // A detection that finds drift is posted to the site's chat webhook and, with remediate: revert, reverted.
    const poster = new ReplyPoster(cfg.chat, logger);
    const stopFollowUp = installDriftFollowUp({
      ledger,
      operations,
      settings: driftSettings,
      post: (url, m, context) => poster.post(url, m, context),
      logger,
    });
    stops.push(async () => stopFollowUp());
    const scheduleWorker = await startScheduleWorker(schedules.service, bullConnection(endpoint), logger);
    stops.push(() => scheduleWorker.close());
    stops.push(async () => {
      await pool!.close(cfg.shutdownGraceMs);
      workerRedis.disconnect();
      await stopHosts?.();
    });
    logger.info("workers started", { stacks: sites, pid: process.pid });
    if (role === "worker") {
      // A worker-only process's run-time metrics live here: scrape it on its own port.
      const metrics = await startMetricsServer({
        host: cfg.host,
        port: cfg.metricsPort,
        tokens: cfg.tokens,
        sites,
        queues: {
          queueCounts: (site) => queues.queueCounts(site),
        },
        logger,
      });
      stops.unshift(() => metrics.stop());
    }
  }

  let port: number | undefined;
  if (role === "all" || role === "api") {
    const operatorView = {
      chat: cfg.chat,
      schedules: schedules.service,
      scheduleMinIntervalSeconds: cfg.schedules.minIntervalSeconds,
      // Every stack takes turns on one shared queue: the board shows that one queue.
      queueOf: () => queues.turnQueue,
      // Queue depth per stack comes from its FIFO (the shared queue's counts are every stack's).
      queueCounts: (site: string) => queues.queueCounts(site),
      dashboard: cfg.dashboard,
    };
    const siteState = new SiteStateReader({
      ledger,
      stackFiles,
      sites,
      facts: { dbNodes: (site) => facts.dbNodes(site) },
      durations: new RunDurations(redis),
      drift: new DriftReports(redis),
      runOrder: async (site) => (await queues.entries(site)).map((e) => e.operationId),
    });
    const app = createApp({
      operations,
      siteState,
      ledger,
      redis,
      tokens: cfg.tokens,
      sites,
      logger,
      bodyLimitBytes: cfg.bodyLimitBytes,
      operatorView,
      rateLimit: cfg.limits.rate,
      streamsPerToken: cfg.limits.streamsPerToken,
    });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(cfg.port, cfg.host, resolve));
    port = (server.address() as AddressInfo).port;
    logger.info("api listening", { host: cfg.host, port, pid: process.pid });
    // The CLI finds a local sandbox service without STACKYARD_URL (docs/operator-view.md, "First run").
    if (cfg.mode === "sandbox") writeLocalServiceUrl(cfg.stateDir, `http://${urlHost(cfg.host)}:${port}`);
    // API first to stop: no new operations while workers drain.
    stops.unshift(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
  }

  if (localAdmin)
    announceLocalAdmin(
      localAdmin,
      port === undefined ? undefined : `http://${urlHost(cfg.host)}:${port}`,
      logger,
    );
  return {
    port,
    redisUrl: redisHandle.url,
    stop: async () => {
      for (const s of stops) await s();
      await schedules.close();
      await queues.close();
      queueConn.disconnect();
      replicaWait?.close();
      redis.disconnect();
      await redisHandle.stop();
    },
  };
}

/** A listening address as a URL host: a wildcard bind is reached on loopback; IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

/** Resolves when the client is ready for commands; rejects if it gives up first. */
function ready(client: IORedis): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    client.once("ready", resolve);
    client.once("end", () => reject(new Error("redis connection ended")));
  });
}
