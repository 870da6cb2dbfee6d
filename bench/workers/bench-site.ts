import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Job, Queue, QueueEvents } from "bullmq";
import IORedis from "ioredis";
import { guardEnvironment } from "../../src/operations/guards/evaluate-guards";
import { Ledger } from "../../src/operations/ledger";
import { OperationService } from "../../src/operations/operation-service";
import { operationRequestSchema } from "../../src/operations/registry";
import type { OperationRecord } from "../../src/operations/operation-record";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { loadServiceConfig } from "../../src/service/config";
import { deployBaseline } from "../../test/workers/support/baseline";
import { createDeployment, type Deployment } from "../../test/workers/support/service-harness";
import { FAULT_DIR_ENV } from "./fault-program";
import { BENCH_QUEUE } from "./process-deps";
import type { BenchJobData, BenchJobResult } from "./run-job";

/** How one operation ended, as the queue and the ledger saw it. */
export interface OpResult {
  site: string;
  operationId: string;
  /** submit → the job settled (completed or failed). */
  submitToDoneMs: number;
  jobState: string;
  failedReason?: string;
  attemptsMade: number;
  result?: BenchJobResult;
  ledgerStatus?: string;
  ledgerReason?: string;
}

/**
 * A throwaway sandbox deployment (private Redis, workspace, backend, simulated clouds), its sites
 * deployed, and the driver's side of the queue: OperationService (plan and guards as the API runs
 * them) submitting into the benchmark's queue.
 */
export class BenchSite {
  readonly env: Record<string, string>;
  readonly faultDir: string;
  private readonly redis: IORedis;
  readonly queue: Queue<BenchJobData>;
  private readonly events: QueueEvents;
  readonly ledger: Ledger;
  private readonly service: OperationService;
  private readonly store: StackFileStore;

  private constructor(
    readonly d: Deployment,
    private readonly extraDir: string,
  ) {
    this.faultDir = path.join(extraDir, "fault");
    fs.mkdirSync(this.faultDir, { recursive: true });
    this.env = { ...d.env, [FAULT_DIR_ENV]: this.faultDir };
    const cfg = loadServiceConfig({ ...process.env, ...this.env });
    this.redis = new IORedis(d.redis.url, { maxRetriesPerRequest: null });
    this.queue = new Queue<BenchJobData>(BENCH_QUEUE, { connection: this.redis });
    this.events = new QueueEvents(BENCH_QUEUE, { connection: { url: d.redis.url } });
    this.ledger = new Ledger(this.redis);
    this.store = new StackFileStore(d.workspace);
    this.service = new OperationService({
      ledger: this.ledger,
      queue: {
        enqueue: async (_site, operationId) => {
          // One attempt: what happens to a run is the run's outcome, not a retry's.
          await this.queue.add(
            "op",
            { operationId },
            { jobId: operationId, attempts: 1, stackTraceLimit: 0 },
          );
        },
        removeQueued: async () => false,
        signalCancel: async () => undefined,
      },
      stackFiles: this.store,
      sites: cfg.sites,
      idempotencyTtlSeconds: 3600,
      guards: guardEnvironment({
        overrides: cfg.policy.guardOverrides,
        runsSince: (site, since, exclude) => this.ledger.runsSince(site, since, exclude),
      }),
    });
  }

  static async create(prefix: string, sites: readonly string[]): Promise<BenchSite> {
    const extraDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-x-`));
    // Many runs of one site in an hour: the operations-per-hour guard would stop the benchmark.
    const guards = path.join(extraDir, "guards.json");
    fs.writeFileSync(
      guards,
      JSON.stringify(Object.fromEntries(sites.map((s) => [s, { maxOperationsPerHour: 10_000 }]))),
    );
    const d = await createDeployment(prefix, sites, {
      STACKYARD_GUARDS_FILE: guards,
      STACKYARD_LOG_LEVEL: "warn",
    });
    try {
      await installSandboxPlugins(path.join(d.stateDir, "sandbox-home"));
      for (const s of sites) await deployBaseline(d, s);
      const site = new BenchSite(d, extraDir);
      await site.events.waitUntilReady();
      return site;
    } catch (err) {
      await d.cleanup();
      fs.rmSync(extraDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** scale-sidekiq on the site's main pool, to a count other than today's (2 ↔ 3). */
  async submit(site: string): Promise<{ site: string; operationId: string; at: number }> {
    const spec = this.store.load(site).spec as unknown as { sidekiq: { pools: { main: { count: number } } } };
    const c = spec.sidekiq.pools.main.count;
    const count = c >= 3 ? c - 1 : c + 1;
    const at = Date.now();
    const { record } = await this.service.submit({
      site,
      request: operationRequestSchema.parse({ operation: "scale-sidekiq", params: { count } }),
      tokenId: "bench",
    });
    return { site, operationId: record.id, at };
  }

  /** Waits until the operation's job completed or failed (or `timeoutMs` passed) and reads both records. */
  async settle(
    op: { site: string; operationId: string; at: number },
    timeoutMs = 180_000,
  ): Promise<OpResult> {
    const job = await Job.fromId<BenchJobData, BenchJobResult>(this.queue, op.operationId);
    if (!job) throw new Error(`no job for ${op.operationId}`);
    await job.waitUntilFinished(this.events, timeoutMs).catch(() => undefined);
    const done = Date.now();
    return this.read(op, done - op.at);
  }

  async read(op: { site: string; operationId: string }, ms: number): Promise<OpResult> {
    const job = await Job.fromId<BenchJobData, BenchJobResult>(this.queue, op.operationId);
    const rec: OperationRecord | undefined = await this.ledger.get(op.operationId);
    return {
      site: op.site,
      operationId: op.operationId,
      submitToDoneMs: ms,
      jobState: job ? await job.getState() : "missing",
      ...(job?.failedReason ? { failedReason: job.failedReason.slice(0, 300) } : {}),
      attemptsMade: job?.attemptsMade ?? 0,
      ...(job?.returnvalue ? { result: job.returnvalue } : {}),
      ledgerStatus: rec?.status,
      ...(rec?.reason ? { ledgerReason: rec.reason.slice(0, 2000) } : {}),
    };
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
    await this.d.cleanup();
    fs.rmSync(this.extraDir, { recursive: true, force: true });
  }
}
