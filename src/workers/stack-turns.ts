import { DelayedError, Queue, Worker, type ConnectionOptions, type Job, type KeepJobs } from "bullmq";
import type IORedis from "ioredis";
import { redisCommands } from "../infra/redis-commands";
import { redisKeys } from "../infra/redis-keys";

/** The shared queue of turns (no `:`, which BullMQ reserves). */
export const TURN_QUEUE = "stack-turns";

const K = redisKeys.turns;

/** One queued run of an operation, as its stack's FIFO holds it. */
export interface TurnEntry {
  /** The run's id: the operation id, `<id>-approved` or `<id>-resume-<n>` (one entry per id). */
  id: string;
  operationId: string;
  /** Position in the stack's FIFO (1, 2, …), given at enqueue. */
  seq: number;
  /** When it was enqueued (ms since the epoch). */
  enqueuedAt: number;
}

/** An entry as the runner receives it. */
export interface StackOperation extends TurnEntry {
  stack: string;
}

/** What the runner asks of the turn once it returns. */
export interface TurnOutcome {
  /** Leave the head in place and run it again on a delayed turn (a worker shutting down). */
  handBack?: { delayMs: number };
  /** The run is over but the turn's job fails with this (after passing the turn on): what Bull Board shows. */
  failure?: Error;
  /**
   * Another run of the same turn (BullMQ re-ran it after this worker stalled) holds the head: leave
   * the head and the turn to it (this job's completion is refused once it lost its lock).
   */
  superseded?: boolean;
  /** The turn job's return value. */
  result?: unknown;
}

/** Runs one entry. At least once: a run cut short by a crash runs again, so it must be idempotent. */
export type StackRunner = (
  op: StackOperation,
  ctx: { job: Job<TurnJobData>; token?: string; signal?: AbortSignal },
) => Promise<TurnOutcome | void>;

/**
 * What to do with a turn BullMQ failed while it still holds its stack's turn (stalled more than
 * maxStalledCount, or its attempts ran out): `retry` runs it again, `pass` gives its head up and
 * passes the turn on, `wait` looks again at the next sweep.
 */
export type LostTurnPolicy = (
  stack: string,
  job: Job<TurnJobData>,
  head: TurnEntry | undefined,
) => Promise<"retry" | "pass" | "wait">;

/** Stalled-job and sweeper settings. */
export interface TurnSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** A turn older than this whose job is missing or failed is repaired by the sweeper. */
  sweepGraceMs: number;
  /** Finished turn jobs kept (for Bull Board). @defaultValue removed at once */
  keep?: KeepJobs;
  /** How long an entry id is remembered, so the same id queued again is a no-op. @defaultValue 7 days */
  entryMarkTtlSeconds?: number;
}

export interface TurnJobData {
  stack: string;
}

type ScriptReply = [number, string | null];

/**
 * The queue layout for many stacks (issue 16; docs/operations.md, "Queue layout at scale"): one
 * shared BullMQ queue of *turns*, a FIFO of runs per stack in Redis, and a turn token per stack so
 * at most one turn job per stack exists (waiting, delayed or active) and only its holder runs or
 * pops the stack's head. A worker process opens a fixed number of connections (the client given
 * here and the Worker's blocking one), whatever the number of stacks.
 *
 * The client must have `maxRetriesPerRequest: null` when a Worker is started on it (BullMQ's rule).
 */
export class StackTurns {
  readonly queue: Queue<TurnJobData>;
  private worker?: Worker<TurnJobData>;
  private sweeper?: NodeJS.Timeout;
  private lostTurn: LostTurnPolicy = async () => "retry";

  constructor(
    private readonly redis: IORedis,
    private readonly settings: TurnSettings,
  ) {
    this.queue = new Queue<TurnJobData>(TURN_QUEUE, { connection: redis });
  }

  /** Appends a run to its stack's FIFO; its sequence number there, or 0 when that entry id was queued before. */
  async enqueue(
    stack: string,
    operationId: string,
    opts: { entryId?: string; enqueuedAt?: number } = {},
  ): Promise<number> {
    const entryId = opts.entryId ?? operationId;
    const [seq, turnId] = (await redisCommands(await this.ready()).turnEnqueue(
      K.pending(stack),
      K.turn(stack),
      K.turnSeq,
      K.index,
      K.opSeq(stack),
      K.entry(entryId),
      stack,
      entryId,
      operationId,
      opts.enqueuedAt ?? Date.now(),
      Date.now(),
      this.settings.entryMarkTtlSeconds ?? 7 * 24 * 3600,
    )) as ScriptReply;
    if (turnId) await this.addTurn(stack, turnId);
    return seq;
  }

  /** A stack's queued runs, oldest first; `started` marks the head a turn is running. */
  async entries(stack: string): Promise<Array<TurnEntry & { started: boolean }>> {
    const [raw, started] = await Promise.all([
      (await this.ready()).lrange(K.pending(stack), 0, -1),
      (await this.ready()).get(K.started(stack)),
    ]);
    return raw.map((r) => ({ ...(JSON.parse(r) as TurnEntry), started: r === started }));
  }

  /** How many runs a stack has queued (the running head included). */
  async length(stack: string): Promise<number> {
    return (await this.ready()).llen(K.pending(stack));
  }

  /** Removes the operation's entries no turn has started; how many went. */
  async remove(stack: string, operationId: string): Promise<number> {
    return (await redisCommands(await this.ready()).turnRemove(
      K.pending(stack),
      K.started(stack),
      operationId,
    )) as number;
  }

  /**
   * The client, once connected: a client without an offline queue (the API's) refuses commands
   * until then, and BullMQ's Queue waits for it the same way.
   */
  private async ready(): Promise<IORedis> {
    await this.queue.waitUntilReady();
    return this.redis;
  }

  private async addTurn(stack: string, turnId: string, delay = 0): Promise<void> {
    // Idempotent: adding an id that exists is a no-op.
    await this.queue.add(
      "turn",
      { stack },
      {
        jobId: turnId,
        delay,
        removeOnComplete: this.settings.keep ?? true,
        // A failed turn stays (so its id is not re-used) until the keep rule drops it.
        removeOnFail: this.settings.keep ?? false,
        attempts: 3,
        backoff: { type: "fixed", delay: 500 },
        // No stack traces on jobs: Bull Board shows them, with the paths of the worker's host.
        stackTraceLimit: 0,
      },
    );
  }

  /**
   * Starts `slots` concurrent turns in this process (one Worker, so one blocking connection) and
   * the sweeper. `name` tags the Worker's connection in CLIENT LIST.
   */
  async startWorker(
    runner: StackRunner,
    opts: {
      slots: number;
      name?: string;
      lostTurn?: LostTurnPolicy;
      onError?: (err: Error) => void;
      /**
       * The Worker's own connection (its lock renewals then never queue behind the process's other
       * traffic on the shared client). @defaultValue the shared client
       */
      connection?: ConnectionOptions;
    },
  ): Promise<Worker<TurnJobData>> {
    if (opts.lostTurn) this.lostTurn = opts.lostTurn;
    const worker = new Worker<TurnJobData>(
      TURN_QUEUE,
      (job, token, signal) => this.process(job, runner, token, signal),
      {
        connection: opts.connection ?? this.redis,
        concurrency: opts.slots,
        ...(opts.name ? { name: opts.name } : {}),
        lockDuration: this.settings.lockDurationMs,
        stalledInterval: this.settings.stalledIntervalMs,
        maxStalledCount: this.settings.maxStalledCount,
      },
    );
    // A Redis blip: BullMQ retries on its own.
    worker.on("error", (err) => opts.onError?.(err));
    this.worker = worker;
    await worker.waitUntilReady();
    const every = Math.max(500, Math.floor(this.settings.sweepGraceMs / 2));
    this.sweeper = setInterval(() => void this.sweep().catch((err) => opts.onError?.(err)), every);
    this.sweeper.unref();
    return worker;
  }

  /** One turn: run the stack's head if this job holds the turn, then pass the turn on. */
  private async process(
    job: Job<TurnJobData>,
    runner: StackRunner,
    token: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const { stack } = job.data;
    const [mine, value] = (await redisCommands(await this.ready()).turnPeek(
      K.turn(stack),
      K.pending(stack),
      K.started(stack),
      job.id!,
    )) as ScriptReply;
    if (!mine) {
      // A stale turn (its stack moved on, e.g. after a crash between passing the turn on and
      // completing): make sure the current turn has its job, then end.
      if (value) await this.addTurn(stack, value);
      return { stale: true };
    }
    let outcome: TurnOutcome | void = undefined;
    if (value) {
      outcome = await runner({ stack, ...(JSON.parse(value) as TurnEntry) }, { job, token, signal });
      if (outcome?.handBack) {
        // The turn stays this job's and the head stays in place: the same job runs it again later
        // (BullMQ's documented way to re-queue from a processor).
        await job.moveToDelayed(Date.now() + outcome.handBack.delayMs, token);
        throw new DelayedError();
      }
      if (outcome?.superseded) return outcome.result;
    }
    await this.passOn(stack, job.id!, value ?? "");
    if (outcome?.failure) throw outcome.failure;
    return outcome?.result;
  }

  /**
   * Pops `head` (unless `pop` is false) and passes the stack's turn on from `turnId` (a no-op when
   * that turn is no longer the stack's).
   */
  private async passOn(stack: string, turnId: string, head: string, pop = true): Promise<void> {
    const [held, next] = (await redisCommands(await this.ready()).turnFinish(
      K.turn(stack),
      K.pending(stack),
      K.turnSeq,
      K.index,
      K.started(stack),
      turnId,
      head,
      stack,
      Date.now(),
      pop ? "1" : "0",
    )) as ScriptReply;
    if (held && next) await this.addTurn(stack, next);
  }

  /**
   * Repairs turns whose job is gone (a producer or worker died between setting the turn and adding
   * its job) or failed (the lost-turn policy decides): the stack would wait forever. Returns how
   * many it repaired.
   */
  async sweep(batch = 200): Promise<number> {
    const stacks = await this.redis.zrangebyscore(
      K.index,
      "-inf",
      Date.now() - this.settings.sweepGraceMs,
      "LIMIT",
      0,
      batch,
    );
    let repaired = 0;
    for (const stack of stacks) {
      const turnId = await this.redis.get(K.turn(stack));
      if (!turnId) continue;
      const job = await this.queue.getJob(turnId);
      if (!job) {
        await this.addTurn(stack, turnId);
        repaired++;
      } else {
        const state = await job.getState();
        if (state === "failed" && (await this.repairFailed(stack, job))) repaired++;
        else if (state === "completed" && (await this.repairCompleted(stack, turnId))) repaired++;
      }
      // Checked: look again after another grace period (XX: never re-adds a stack gone idle).
      await this.redis.zadd(K.index, "XX", Date.now(), stack);
    }
    return repaired;
  }

  /**
   * A failed turn job: when it still holds its stack's turn, the lost-turn policy retries it or
   * gives its head up (the turn passes on). True when it did either.
   */
  async repairFailed(stack: string, job: Job<TurnJobData>): Promise<boolean> {
    if ((await this.redis.get(K.turn(stack))) !== job.id) return false;
    const raw = await this.redis.lindex(K.pending(stack), 0);
    const head = raw ? (JSON.parse(raw) as TurnEntry) : undefined;
    const action = await this.lostTurn(stack, job, head);
    if (action === "retry") await job.retry("failed");
    else if (action === "pass") await this.passOn(stack, job.id!, raw ?? "");
    return action !== "wait";
  }

  /**
   * A turn job that completed while it still holds its stack's turn (a run that stopped as
   * superseded, when the run it deferred to was gone too): the head stays and runs on a new turn.
   */
  private async repairCompleted(stack: string, turnId: string): Promise<boolean> {
    const raw = await this.redis.lindex(K.pending(stack), 0);
    await this.passOn(stack, turnId, raw ?? "", false);
    return true;
  }

  /** The Worker started by startWorker (to cancel a running turn). */
  get runningWorker(): Worker<TurnJobData> | undefined {
    return this.worker;
  }

  /** Graceful: running turns finish (the Worker waits for them). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.worker?.close();
    await this.queue.close();
  }
}
