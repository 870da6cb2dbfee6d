// A runner with no engine: each operation sleeps for a fixed time derived from its id and records
// its start and end in Redis, so the benchmark and the test can check one-at-a-time, FIFO, nothing
// lost and nothing run twice from the record alone.
import { createHash } from "node:crypto";
import type IORedis from "ioredis";
import type { StackOperation } from "../../src/workers/stack-turns";

const P = "qs:log";
export const runLogKeys = {
  /** Every run start (JSON RunStart), in the order Redis saw them. */
  starts: `${P}:starts`,
  /** Every finished run (JSON RunRecord). */
  runs: `${P}:runs`,
  /** Operation id → its finished run: the ledger's stand-in, so a re-run of a finished operation is a no-op. */
  done: `${P}:done`,
  /** Runs that found their operation already finished (JSON RunStart). */
  skips: `${P}:skips`,
};

export interface RunStart {
  operationId: string;
  stack: string;
  seq: number;
  enqueuedAt: number;
  start: number;
  /** The worker process (its tag). */
  worker: string;
}

export interface RunRecord extends RunStart {
  end: number;
}

/** The sleep of an operation: `minMs`..`maxMs`, fixed by its id (so the ideal drain time is known up front). */
export function stubDurationMs(operationId: string, minMs: number, maxMs: number): number {
  const h = createHash("sha1").update(operationId).digest().readUInt32BE(0);
  return minMs + (h % (maxMs - minMs + 1));
}

/** Sub-millisecond wall-clock time, comparable across processes on one host. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A StackRunner that sleeps and records; idempotent by operation id, the way the ledger makes the real one. */
export function stubRunner(redis: IORedis, worker: string, minMs: number, maxMs: number) {
  return async (op: StackOperation): Promise<void> => {
    const start: RunStart = { ...op, start: nowMs(), worker };
    const [[, finished]] = (await redis
      .multi()
      .hexists(runLogKeys.done, op.operationId)
      .rpush(runLogKeys.starts, JSON.stringify(start))
      .exec()) as [[Error | null, number], unknown];
    if (finished) {
      await redis.rpush(runLogKeys.skips, JSON.stringify(start));
      return;
    }
    await new Promise((r) => setTimeout(r, stubDurationMs(op.operationId, minMs, maxMs)));
    const rec = JSON.stringify({ ...start, end: nowMs() } satisfies RunRecord);
    await redis.multi().hsetnx(runLogKeys.done, op.operationId, rec).rpush(runLogKeys.runs, rec).exec();
  };
}

/** The whole record, for the checks. */
export async function readRunLog(
  redis: IORedis,
): Promise<{ starts: RunStart[]; runs: RunRecord[]; skips: RunStart[]; done: number }> {
  const [starts, runs, skips, done] = await Promise.all([
    redis.lrange(runLogKeys.starts, 0, -1),
    redis.lrange(runLogKeys.runs, 0, -1),
    redis.lrange(runLogKeys.skips, 0, -1),
    redis.hlen(runLogKeys.done),
  ]);
  const parse = <T>(xs: string[]) => xs.map((x) => JSON.parse(x) as T);
  return {
    starts: parse<RunStart>(starts),
    runs: parse<RunRecord>(runs),
    skips: parse<RunStart>(skips),
    done,
  };
}
