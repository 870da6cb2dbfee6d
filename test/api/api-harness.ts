import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import IORedis from "ioredis";
import { createApp, type AppDeps } from "../../src/api/app";
import { hashToken, type TokenEntry } from "../../src/auth/tokens";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import type { GuardEnvironment } from "../../src/operations/guards/evaluate-guards";
import { Ledger } from "../../src/operations/ledger";
import { OperationRetention } from "../../src/operations/retention";
import { OperationService, type ReplicationCheck } from "../../src/operations/operation-service";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { createLogger } from "../../src/infra/observability/logger";
import { ScaleCoalescer } from "../../src/schedules/scale-coalescer";
import { openSchedules, startScheduleWorker } from "../../src/schedules/schedule-worker";
import type { ScheduleService } from "../../src/schedules/schedule-service";
import { StackQueues } from "../../src/workers/stack-queues";
import { tempDir } from "../support/temp-dir";
import { ApiClient } from "../workers/support/api-client";
import { copyWorkspace } from "../workers/support/service-harness";

export const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"] as const;

/** Tokens for the auth matrix; each secret is derived from its id so tests can name them. */
export const TOKENS = {
  admin: {
    sites: ["*"],
    operations: ["*"],
    scopes: ["operations:write", "operations:read", "operations:cancel", "operations:approve", "sites:read"],
  },
  approver: { sites: ["*"], operations: ["*"], scopes: ["operations:read", "operations:approve"] },
  theatlScaler: {
    sites: ["theatl"],
    operations: ["scale-sidekiq"],
    scopes: ["operations:write", "operations:read"],
  },
  reader: { sites: ["*"], operations: ["*"], scopes: ["operations:read", "sites:read"] },
} as const;
export const secretOf = (id: keyof typeof TOKENS) => `svc_test_${id}_0123456789abcdef`;

/** The API in-process on a real Redis, with BullMQ queues and no workers: jobs stay queued for inspection. */
export interface ApiHarness {
  client(token?: keyof typeof TOKENS | string): ApiClient;
  queues: StackQueues;
  ledger: Ledger;
  operations: OperationService;
  redis: RedisHandle;
  /** The configured tokens; edit in place to revoke or narrow one (the API and schedule firings read it live). */
  tokens: TokenEntry[];
  /** Present when started with `schedules`. */
  schedules?: ScheduleService;
  logLines: string[];
  workspace: string;
  /** Another API process's app on the same Redis and tokens (a second `createApp`, its own server). */
  anotherApi(): Promise<{ client(token?: keyof typeof TOKENS | string): ApiClient }>;
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  /** Guard settings, clock and history for the service (defaults: built-in settings, system clock, the ledger). */
  guards?: (ledger: Ledger) => GuardEnvironment;
  approvalTtlMs?: number;
  /** Coalesce scale-sidekiq requests as the service does (src/schedules/scale-coalescer.ts). */
  coalesce?: boolean;
  /** Mount the schedule routes; `fire` also runs the schedule worker (firings submit; no stack workers run). */
  schedules?: { minIntervalSeconds?: number; maxPerSite?: number; fire?: boolean };
  /** Per-token request budget (default: the service's). */
  rateLimit?: AppDeps["rateLimit"];
  /** Concurrent event streams per token (default: the service's). */
  streamsPerToken?: number;
  /** Finished operations expire after this (default: never, as a bare Ledger). */
  retentionSeconds?: number;
  /** The replica acknowledgement the service asks for (STACKYARD_REDIS_WAIT_REPLICAS; default: none). */
  replication?: ReplicationCheck;
}

export async function startApiHarness(opts: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const tmp = tempDir("api");
  const redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
  const workspace = copyWorkspace(tmp.dir, SITES);
  const conn = new IORedis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  conn.on("error", () => undefined);
  await new Promise((r) => conn.once("ready", r));
  const queueConn = new IORedis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  queueConn.on("error", () => undefined);
  const ledger = new Ledger(
    conn,
    opts.retentionSeconds ? new OperationRetention(conn, opts.retentionSeconds) : undefined,
  );
  const queues = new StackQueues(queueConn, conn, SITES);
  const tokens: TokenEntry[] = Object.entries(TOKENS).map(([id, t]) => ({
    id,
    sha256: hashToken(secretOf(id as keyof typeof TOKENS)),
    sites: [...t.sites],
    operations: [...t.operations] as TokenEntry["operations"],
    scopes: [...t.scopes],
  }));
  const logLines: string[] = [];
  const logger = createLogger({ level: "debug", write: (l) => logLines.push(l) });
  const operations = new OperationService({
    ledger,
    queue: queues,
    stackFiles: new StackFileStore(workspace),
    sites: SITES,
    idempotencyTtlSeconds: 3600,
    guards: opts.guards?.(ledger),
    approvalTtlMs: opts.approvalTtlMs,
    coalescer: opts.coalesce ? new ScaleCoalescer() : undefined,
    replication: opts.replication,
  });
  const sched =
    opts.schedules &&
    openSchedules(queueConn, conn, operations, logger, {
      tokens: () => tokens,
      maxPerSite: opts.schedules.maxPerSite,
    });
  const scheduleWorker =
    sched && opts.schedules?.fire
      ? await startScheduleWorker(sched.service, { url: redis.url }, logger)
      : undefined;
  const operatorView = sched && {
    schedules: sched.service,
    scheduleMinIntervalSeconds: opts.schedules?.minIntervalSeconds ?? 60,
  };
  const deps: AppDeps = {
    operations,
    ledger,
    redis: conn,
    tokens,
    sites: SITES,
    logger,
    bodyLimitBytes: 16 * 1024,
    sseHeartbeatMs: 500,
    rateLimit: opts.rateLimit,
    streamsPerToken: opts.streamsPerToken,
    operatorView,
  };
  const servers: http.Server[] = [];
  const serve = async () => {
    const server = http.createServer(createApp(deps));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return (token?: keyof typeof TOKENS | string) =>
      new ApiClient(
        base,
        token === undefined ? undefined : token in TOKENS ? secretOf(token as keyof typeof TOKENS) : token,
      );
  };
  const client = await serve();
  return {
    client,
    queues,
    ledger,
    operations,
    redis,
    tokens,
    schedules: sched?.service,
    logLines,
    workspace,
    anotherApi: async () => ({ client: await serve() }),
    close: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
      await scheduleWorker?.close().catch(() => undefined);
      await sched?.close().catch(() => undefined);
      await queues.close().catch(() => undefined);
      queueConn.disconnect();
      conn.disconnect();
      await redis.stop();
      tmp.remove();
    },
  };
}

/**
 * Parks a queued operation where the runner leaves it after its preview (`awaiting-approval`, a
 * window from `now`), standing in for a worker: the job is removed, the record moved.
 */
export async function parkAwaitingApproval(
  h: ApiHarness,
  id: string,
  now: Date,
  ttlMs: number,
): Promise<void> {
  const rec = (await h.ledger.get(id))!;
  if (!(await h.queues.removeQueued(rec.site, id))) throw new Error(`${id}: no queued job to stand in for`);
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  await h.ledger.transition(id, ["queued"], "awaiting-approval", {
    approval: { ...rec.approval!, requestedAt: now.toISOString(), expiresAt },
  });
  await h.ledger.addAwaiting(id, Date.parse(expiresAt));
}
