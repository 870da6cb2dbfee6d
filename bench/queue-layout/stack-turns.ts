// The queue layout for many stacks (issue 16), kept in bench/ until the service adopts it (see
// docs/operations.md, "Queue layout at scale"): one shared BullMQ queue of *turns*, a FIFO of
// operations per stack in Redis, and a turn token per stack so at most one job per stack is ever in
// the shared queue (waiting or active). A worker process opens a fixed number of connections (its
// shared client and the Worker's blocking one), whatever the number of stacks.
import { Queue, Worker, type Job } from "bullmq";
import type IORedis from "ioredis";

/** The shared queue's name (no `:`, which BullMQ reserves). */
export const TURN_QUEUE = "stack-turns";

/** Key prefix of the layout's own Redis keys (BullMQ's stay under `bull:`). */
const P = "qs";
/** The layout's keys (exported for the test that plays a crash at a precise step). */
export const turnKeys = {
  /** A stack's operations, oldest first (a list; gone when empty). */
  pending: (stack: string) => `${P}:pending:${stack}`,
  /** The id of the one turn job of a stack, while it has operations (gone when idle). */
  turn: (stack: string) => `${P}:turn:${stack}`,
  /** Counter behind the turn job ids: each turn is a new job, so finished ones are never re-added. */
  turnSeq: `${P}:turnseq`,
  /** Stacks holding a turn, scored by when it was last set or checked (the sweeper's index). */
  turns: `${P}:turns`,
  /** Per-stack counter behind each operation's sequence number (its FIFO position). */
  opSeq: (stack: string) => `${P}:opseq:${stack}`,
};

// Append an operation; when the stack has no turn, create one (the caller adds its job).
// KEYS: pending, turn, turnSeq, turns, opSeq  ARGV: stack, operationId, enqueuedAt, now
const ENQUEUE = `
local seq = redis.call('INCR', KEYS[5])
redis.call('RPUSH', KEYS[1], cjson.encode({operationId = ARGV[2], seq = seq, enqueuedAt = tonumber(ARGV[3])}))
if redis.call('EXISTS', KEYS[2]) == 1 then return {seq, false} end
local id = 'turn-' .. redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[2], id)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return {seq, id}`;

// The head of the stack's FIFO, if this job holds the stack's turn; else the turn's current holder.
// KEYS: turn, pending  ARGV: jobId
const PEEK = `
local holder = redis.call('GET', KEYS[1])
if holder ~= ARGV[1] then return {0, holder} end
return {1, redis.call('LINDEX', KEYS[2], 0)}`;

// The head ran: pop it and pass the turn on (a new turn job at the back of the shared queue) or
// drop it when the stack is idle. Only the turn's holder may do so.
// KEYS: turn, pending, turnSeq, turns  ARGV: jobId, head, stack, now
const FINISH = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, false} end
if redis.call('LINDEX', KEYS[2], 0) == ARGV[2] then redis.call('LPOP', KEYS[2]) end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[3])
  return {1, false}
end
local id = 'turn-' .. redis.call('INCR', KEYS[3])
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[3])
return {1, id}`;

/** One queued operation of a stack, as the runner receives it. */
export interface StackOperation {
  stack: string;
  operationId: string;
  /** Position in the stack's FIFO (1, 2, …), given at enqueue. */
  seq: number;
  /** When it was enqueued (ms since the epoch). */
  enqueuedAt: number;
}

/** Runs one operation. At least once: a run cut short by a crash is run again, so it must be idempotent. */
export type StackRunner = (op: StackOperation) => Promise<void>;

/** Stalled-job and sweeper settings. */
export interface TurnSettings {
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** A turn older than this whose job is missing or failed is repaired by the sweeper. */
  sweepGraceMs: number;
}

interface TurnJobData {
  stack: string;
}

type Commands = {
  qsEnqueue(...a: (string | number)[]): Promise<[number, string | null]>;
  qsPeek(...a: (string | number)[]): Promise<[number, string | null]>;
  qsFinish(...a: (string | number)[]): Promise<[number, string | null]>;
};

function commands(redis: IORedis): Commands {
  const r = redis as unknown as Commands & IORedis;
  if (typeof r.qsEnqueue !== "function") {
    redis.defineCommand("qsEnqueue", { numberOfKeys: 5, lua: ENQUEUE });
    redis.defineCommand("qsPeek", { numberOfKeys: 2, lua: PEEK });
    redis.defineCommand("qsFinish", { numberOfKeys: 4, lua: FINISH });
  }
  return r;
}

const TURN_JOB_OPTS = {
  removeOnComplete: true,
  // A failed turn stays so its id is not re-used; the sweeper retries it.
  removeOnFail: false,
  attempts: 3,
  backoff: { type: "fixed" as const, delay: 500 },
  stackTraceLimit: 0,
};

/**
 * The producer side and the worker side of the layout over one shared client (`maxRetriesPerRequest:
 * null`, as BullMQ's Worker needs): the Queue and the Worker's non-blocking commands use it; the
 * Worker adds its one blocking connection. Nothing here is per stack.
 */
export class StackTurns {
  private readonly queue: Queue<TurnJobData>;
  private worker?: Worker<TurnJobData>;
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly redis: IORedis,
    private readonly settings: TurnSettings,
  ) {
    this.queue = new Queue<TurnJobData>(TURN_QUEUE, { connection: redis });
  }

  /** Appends an operation to its stack's FIFO; returns its sequence number there. */
  async enqueue(stack: string, operationId: string, enqueuedAt = Date.now()): Promise<number> {
    const [seq, turnId] = await commands(this.redis).qsEnqueue(
      turnKeys.pending(stack),
      turnKeys.turn(stack),
      turnKeys.turnSeq,
      turnKeys.turns,
      turnKeys.opSeq(stack),
      stack,
      operationId,
      enqueuedAt,
      Date.now(),
    );
    if (turnId) await this.addTurn(stack, turnId);
    return seq;
  }

  private async addTurn(stack: string, turnId: string): Promise<void> {
    // Idempotent: adding an id that exists is a no-op.
    await this.queue.add("turn", { stack }, { ...TURN_JOB_OPTS, jobId: turnId });
  }

  /**
   * Starts `slots` concurrent turns in this process (one Worker, so one blocking connection) and the
   * sweeper. `name` tags the Worker's connection in CLIENT LIST.
   */
  async startWorker(runner: StackRunner, slots: number, name: string): Promise<void> {
    this.worker = new Worker<TurnJobData>(TURN_QUEUE, (job) => this.process(job, runner), {
      connection: this.redis,
      concurrency: slots,
      name,
      lockDuration: this.settings.lockDurationMs,
      stalledInterval: this.settings.stalledIntervalMs,
      maxStalledCount: this.settings.maxStalledCount,
    });
    this.worker.on("error", () => undefined); // a Redis blip; BullMQ retries on its own
    await this.worker.waitUntilReady();
    const every = Math.max(500, Math.floor(this.settings.sweepGraceMs / 2));
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), every);
    this.sweeper.unref();
  }

  /** One turn: run the stack's head operation if this job holds the turn, then pass the turn on. */
  private async process(job: Job<TurnJobData>, runner: StackRunner): Promise<void> {
    const { stack } = job.data;
    const c = commands(this.redis);
    const [mine, value] = await c.qsPeek(turnKeys.turn(stack), turnKeys.pending(stack), job.id!);
    if (!mine) {
      // A stale turn (its stack moved on, e.g. after a crash between passing the turn on and
      // completing): make sure the current turn has its job, then end.
      if (value) await this.addTurn(stack, value);
      return;
    }
    if (value) {
      const e = JSON.parse(value) as Omit<StackOperation, "stack">;
      await runner({ stack, ...e });
    }
    const [held, next] = await c.qsFinish(
      turnKeys.turn(stack),
      turnKeys.pending(stack),
      turnKeys.turnSeq,
      turnKeys.turns,
      job.id!,
      value ?? "",
      stack,
      Date.now(),
    );
    if (held && next) await this.addTurn(stack, next);
  }

  /**
   * Repairs turns whose job is gone (a producer or worker died between setting the turn and adding
   * its job) or failed (stalled too often, or a Redis error thrice): the stack would wait forever.
   */
  async sweep(batch = 200): Promise<number> {
    const stacks = await this.redis.zrangebyscore(
      turnKeys.turns,
      "-inf",
      Date.now() - this.settings.sweepGraceMs,
      "LIMIT",
      0,
      batch,
    );
    let repaired = 0;
    for (const stack of stacks) {
      const turnId = await this.redis.get(turnKeys.turn(stack));
      if (!turnId) continue;
      const job = await this.queue.getJob(turnId);
      if (!job) {
        await this.addTurn(stack, turnId);
        repaired++;
      } else if ((await job.getState()) === "failed") {
        await job.retry("failed");
        repaired++;
      }
      // Checked: look again after another grace period (XX: never re-adds a stack gone idle).
      await this.redis.zadd(turnKeys.turns, "XX", Date.now(), stack);
    }
    return repaired;
  }

  /** Graceful: running turns finish (the Worker waits for them). */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.worker?.close();
    await this.queue.close();
  }
}
