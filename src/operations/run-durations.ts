import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import type { OperationRecord } from "./operation-record";

/** How many recent run times of a stack and kind are kept; the estimate is their median. */
export const RUN_DURATION_SAMPLES = 20;

/**
 * Recent run times per stack and operation kind, in Redis (a capped list per key), so every API
 * process estimates a queued operation's wait from the same history whatever process ran the work.
 */
export class RunDurations {
  constructor(private readonly redis: IORedis) {}

  /** Keeps the run time of a succeeded operation that ran its own engine (a rider ran none). */
  async recordFinished(rec: OperationRecord): Promise<void> {
    const seconds = runSeconds(rec);
    if (seconds === undefined) return;
    const key = redisKeys.runDurations(rec.site, rec.kind);
    await this.redis
      .multi()
      .lpush(key, seconds.toFixed(3))
      .ltrim(key, 0, RUN_DURATION_SAMPLES - 1)
      .exec();
  }

  /** The kept run times of each kind asked for (seconds, newest first; empty when none ran yet). */
  async samples(site: string, kinds: readonly string[]): Promise<Record<string, number[]>> {
    const pipe = this.redis.pipeline();
    for (const k of kinds) pipe.lrange(redisKeys.runDurations(site, k), 0, -1);
    const res = (await pipe.exec()) ?? [];
    return Object.fromEntries(
      kinds.map((k, i) => [k, ((res[i]?.[1] as string[] | undefined) ?? []).map(Number)]),
    );
  }
}

/**
 * Start to finish of the run that did the work: an approved operation's clock starts at its
 * approval (the wait for a second principal is not run time).
 */
export function runSeconds(rec: OperationRecord): number | undefined {
  if (rec.status !== "succeeded" || rec.coalescedInto || !rec.finishedAt) return undefined;
  const from = rec.approval?.approvedAt ?? rec.startedAt;
  if (!from) return undefined;
  const s = (Date.parse(rec.finishedAt) - Date.parse(from)) / 1000;
  return Number.isFinite(s) && s >= 0 ? s : undefined;
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
