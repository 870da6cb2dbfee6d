import { QueueEvents, type ConnectionOptions, type Job, type Worker } from "bullmq";
import type IORedis from "ioredis";
import type { Logger } from "../infra/observability/logger";
import { jobFailure, unexpectedJobFailure } from "./job-failure";
import { runOperation, SHUTDOWN_REASON, type RunnerDeps } from "./operation-runner";
import { LostOperations } from "./lost-operations";
import { CANCEL_CHANNEL, KEEP_TURNS, StackQueues } from "./stack-queues";
import { TURN_QUEUE, type StackOperation, type TurnJobData, type TurnOutcome } from "./stack-turns";

/** A queued operation younger than this is left alone by the sweep: its submit may still be queuing its run. */
const SWEEP_QUEUED_GRACE_MS = 120_000;

/** A handed-back run waits this long on its delayed turn before another worker may take it. */
const HAND_BACK_DELAY_MS = 100;

/**
 * Stalled-job settings. A turn's lock is renewed every lockDuration/2 while the processor runs (the
 * engine runs in child processes, so the event loop stays free); a worker that dies stops renewing,
 * and after lockDuration + stalledInterval at most the turn goes back to wait and another worker
 * runs its operation again, through recovery. maxStalledCount bounds how many crashes one operation
 * survives.
 */
export interface StallSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
}

export interface WorkerPoolOptions {
  /** Operations this process runs at once (stacks in parallel). @defaultValue the number of sites */
  slots?: number;
}

/**
 * One Worker on the shared queue of turns in this process, `slots` turns at a time: stacks in
 * parallel, each stack one operation at a time and in order (src/workers/stack-turns.ts).
 */
export class WorkerPool {
  private worker?: Worker<TurnJobData>;
  private events?: QueueEvents;
  private subscriber?: IORedis;
  private sweeper?: NodeJS.Timeout;
  /** Operation id → the turn job running it in this process. */
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
    private readonly options: WorkerPoolOptions = {},
  ) {
    this.queues = new StackQueues(redis, redis, sites, {
      ...stall,
      // A turn set but never given its job (its producer died in between) is repaired after this.
      sweepGraceMs: Math.max(5_000, stall.lockDurationMs + stall.stalledIntervalMs),
      keep: KEEP_TURNS,
    });
    this.lost = new LostOperations({
      ledger: deps.ledger,
      stackLock: deps.stackLock,
      turns: this.queues.turns,
      resume: (site, rec) => this.queues.enqueue(site, rec.id, rec.kind, `resume-${rec.attempts}`),
      logger,
    });
  }

  async start(): Promise<void> {
    const turns = this.queues.turns;
    this.worker = await turns.startWorker((op, ctx) => this.run(op, ctx.job, ctx.signal), {
      slots: this.options.slots ?? Math.max(1, this.sites.length),
      name: `worker-${process.pid}`,
      // Its own client, as before the shared turns: the engine's events stream through the shared
      // one, and a lock renewal queued behind them under load would let the turn stall.
      connection: this.connection,
      lostTurn: (stack, job, head) => this.lost.lostTurn(stack, job, head),
      onError: (err) => this.logger.error("worker error", { err }),
    });
    this.worker.on("stalled", (jobId) =>
      this.logger.warn("turn stalled; its operation will run again through recovery", { turn: jobId }),
    );

    // A turn BullMQ fails on its own (stalled too often) never reaches the processor: act on it now
    // (the sweep would, a grace period later).
    this.events = new QueueEvents(TURN_QUEUE, { connection: this.connection });
    this.events.on("error", () => undefined);
    this.events.on(
      "failed",
      ({ jobId }) =>
        void (async () => {
          const job = await turns.queue.getJob(jobId);
          if (job) await turns.repairFailed(job.data.stack, job);
        })().catch(() => undefined),
    );
    await this.events.waitUntilReady();

    // Cancel requests reach every worker process; the one running the operation aborts its engine run.
    this.subscriber = this.redis.duplicate();
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    this.subscriber.on("message", (_ch, operationId: string) => {
      const jobId = this.running.get(operationId);
      if (!jobId || !this.worker?.cancelJob(jobId, "cancel requested")) return;
      this.logger.info("cancelling", { operationId });
      // The engine has been told (SIGINT): from here it stops at its next safe point.
      void this.deps.ledger
        .event(operationId, "cancel-signalled", { pid: process.pid })
        .catch(() => undefined);
    });
    // Operations nothing would end any more (a failed turn no one heard, a run that stopped
    // without ending its operation) are found here, whichever worker process is alive.
    this.sweeper = setInterval(
      () => void this.lost.sweep(this.sites, SWEEP_QUEUED_GRACE_MS).catch(() => undefined),
      Math.max(1000, this.stall.lockDurationMs + this.stall.stalledIntervalMs),
    );
    this.sweeper.unref();
  }

  /** The stack's head operation, run by this process's turn `job`. */
  private async run(op: StackOperation, job: Job<TurnJobData>, signal?: AbortSignal): Promise<TurnOutcome> {
    let outcome: Awaited<ReturnType<typeof runOperation>>;
    this.running.set(op.operationId, job.id!);
    try {
      outcome = await runOperation(this.deps, op.operationId, signal);
    } catch (err) {
      // What BullMQ keeps of a failure is shown by Bull Board: never a stack trace with the host's paths.
      throw unexpectedJobFailure(err);
    } finally {
      this.running.delete(op.operationId);
    }
    const result = { operationId: op.operationId, run: op.id, status: outcome.status };
    // Back to the queue for another worker: the head stays, on a delayed turn.
    if (outcome.status === "handed-back") return { handBack: { delayMs: HAND_BACK_DELAY_MS } };
    // Waiting for approval: this run is done; approval queues the up phase as a new run.
    if (outcome.status === "awaiting-approval" || outcome.alreadyFinished) return { result };
    // Superseded: another run of the operation holds it (BullMQ's second run of this turn, after
    // this worker stalled); that run ends the turn, this one leaves the head and the turn alone. If
    // no run holds it, the sweeper gives the head a new turn.
    if (outcome.status === "superseded") return { superseded: true, result };
    // The ledger is the record; the turn fails (without retry, after passing the turn on) when the
    // operation did not succeed, so Bull Board shows it as failed.
    if (outcome.status !== "succeeded")
      return { failure: jobFailure(`${op.operationId} ${outcome.status}: ${outcome.reason ?? ""}`) };
    return { result };
  }

  /**
   * Graceful: stop taking turns and let running ones finish. After `graceMs` the running engine
   * runs are aborted (SIGINT to the CLI: in-flight steps complete, the lock is released).
   */
  async close(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.worker?.cancelAllJobs(SHUTDOWN_REASON), graceMs);
    try {
      await this.queues.close();
    } finally {
      clearTimeout(timer);
    }
    clearInterval(this.sweeper);
    await this.events?.close();
    this.subscriber?.disconnect();
  }
}
