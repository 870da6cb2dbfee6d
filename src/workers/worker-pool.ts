import { DelayedError, QueueEvents, Worker, type ConnectionOptions, type Job } from "bullmq";
import type IORedis from "ioredis";
import type { Logger } from "../infra/observability/logger";
import { jobFailure, unexpectedJobFailure } from "./job-failure";
import { runOperation, SHUTDOWN_REASON, type RunnerDeps } from "./operation-runner";
import { LostOperations } from "./lost-operations";
import { CANCEL_CHANNEL, StackQueues, stackQueueName, type OperationJobData } from "./stack-queues";

/** A queued operation younger than this is left alone by the sweep: its submit may still be queuing its job. */
const SWEEP_QUEUED_GRACE_MS = 120_000;

/** The operation a job runs: `<id>`, `<id>-approved` or `<id>-resume-<n>`. */
function operationIdOf(jobId: string): string {
  return jobId.replace(/-(approved|resume-\d+)$/, "");
}

/**
 * Stalled-job settings. A job's lock is renewed every lockDuration/2 while the processor runs (the
 * engine runs in child processes, so the event loop stays free); a worker that dies stops renewing,
 * and after lockDuration + stalledInterval at most the job goes back to wait and another worker
 * runs it again, through recovery. maxStalledCount bounds how many crashes one operation survives.
 */
export interface StallSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

/** One Worker per stack queue in this process: stacks in parallel, each stack one job at a time. */
export class WorkerPool {
  private readonly workers = new Map<string, Worker<OperationJobData>>();
  private readonly events: QueueEvents[] = [];
  private subscriber?: IORedis;
  private sweeper?: NodeJS.Timeout;
  /** Operation id → the job of it this process runs (its first, approved or resumed run). */
  private readonly running = new Map<string, string>();
  private readonly queues: StackQueues;
  private readonly lost: LostOperations;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly connection: ConnectionOptions,
    private readonly redis: IORedis,
    private readonly sites: readonly string[],
    private readonly stall: StallSettings,
    private readonly logger: Logger,
  ) {
    this.queues = new StackQueues(connection, redis, sites);
    this.lost = new LostOperations({
      ledger: deps.ledger,
      stackLock: deps.stackLock,
      queue: (site) => this.queues.queue(site),
      resume: (site, rec) => this.queues.enqueue(site, rec.id, rec.kind, `resume-${rec.attempts}`),
      logger,
    });
  }

  async start(): Promise<void> {
    for (const site of this.sites) {
      const worker = new Worker<OperationJobData>(
        stackQueueName(site),
        (job, token, signal) => this.process(job, token, signal),
        {
          connection: this.connection,
          concurrency: 1,
          lockDuration: this.stall.lockDurationMs,
          stalledInterval: this.stall.stalledIntervalMs,
          maxStalledCount: this.stall.maxStalledCount,
        },
      );
      worker.on("error", (err) => this.logger.error("worker error", { stack: site, err }));
      worker.on("stalled", (jobId) =>
        this.logger.warn("job stalled; it will run again through recovery", {
          stack: site,
          operationId: jobId,
        }),
      );
      this.workers.set(site, worker);

      // A job BullMQ fails on its own (stalled too often) never reaches the processor: record it.
      const qe = new QueueEvents(stackQueueName(site), { connection: this.connection });
      qe.on(
        "failed",
        ({ jobId, failedReason }) =>
          void this.lost.check(site, operationIdOf(jobId), failedReason).catch(() => undefined),
      );
      this.events.push(qe);
    }
    await Promise.all([...this.workers.values()].map((w) => w.waitUntilReady()));
    await Promise.all(this.events.map((e) => e.waitUntilReady()));

    // Cancel requests reach every worker process; the one running the operation aborts its engine run.
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    this.subscriber.on("message", (_ch, operationId: string) => {
      const jobId = this.running.get(operationId);
      if (!jobId) return;
      for (const w of this.workers.values()) {
        if (!w.cancelJob(jobId, "cancel requested")) continue;
        this.logger.info("cancelling", { operationId });
        // The engine has been told (SIGINT): from here it stops at its next safe point.
        void this.deps.ledger
          .event(operationId, "cancel-signalled", { pid: process.pid })
          .catch(() => undefined);
      }
    });
    // Operations nothing would end any more (a failed event no one heard, a run that stopped
    // without ending its operation) are found here, whichever worker process is alive.
    this.sweeper = setInterval(
      () => void this.lost.sweep(this.sites, SWEEP_QUEUED_GRACE_MS).catch(() => undefined),
      Math.max(1000, this.stall.lockDurationMs + this.stall.stalledIntervalMs),
    );
    this.sweeper.unref();
  }

  private async process(
    job: Job<OperationJobData>,
    token: string | undefined,
    signal?: AbortSignal,
  ): Promise<{ status: string }> {
    let outcome: Awaited<ReturnType<typeof runOperation>>;
    this.running.set(job.data.operationId, job.id!);
    try {
      outcome = await runOperation(this.deps, job.data.operationId, signal);
    } catch (err) {
      // What BullMQ keeps of a failure is shown by Bull Board: never a stack trace with the host's paths.
      throw unexpectedJobFailure(err);
    } finally {
      this.running.delete(job.data.operationId);
    }
    if (outcome.status === "handed-back") {
      // Back to the queue for another worker (BullMQ's documented way to re-queue from a processor).
      await job.moveToDelayed(Date.now() + 100, token);
      throw new DelayedError();
    }
    // Waiting for approval: this job is done; approval queues the up phase as a new job.
    // Superseded: another run of the operation holds it (or it had ended); this job has nothing left to do.
    if (outcome.status === "awaiting-approval" || outcome.status === "superseded" || outcome.alreadyFinished)
      return { status: outcome.status };
    // The ledger is the record; the job fails (without retry) when the operation did not succeed.
    if (outcome.status !== "succeeded") throw jobFailure(`${outcome.status}: ${outcome.reason ?? ""}`);
    return { status: outcome.status };
  }

  /**
   * Graceful: stop taking jobs and let running ones finish. After `graceMs` the running engine
   * runs are aborted (SIGINT to the CLI: in-flight steps complete, the lock is released).
   */
  async close(graceMs: number): Promise<void> {
    const timer = setTimeout(() => {
      for (const w of this.workers.values()) w.cancelAllJobs(SHUTDOWN_REASON);
    }, graceMs);
    try {
      await Promise.all([...this.workers.values()].map((w) => w.close()));
    } finally {
      clearTimeout(timer);
    }
    clearInterval(this.sweeper);
    await Promise.all(this.events.map((e) => e.close()));
    await this.queues.close();
    this.subscriber?.disconnect();
  }
}
