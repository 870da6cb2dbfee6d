import type { Queue } from "bullmq";
import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import type { OperationQueue } from "../operations/operation-service";
import { StackTurns, type TurnEntry, type TurnJobData, type TurnSettings } from "./stack-turns";

export const CANCEL_CHANNEL = redisKeys.cancelChannel;

/** Finished turn jobs are kept for a week (Bull Board's history), at most 10,000 of each. */
export const KEEP_TURNS = { age: 7 * 24 * 3600, count: 10_000 };

/** The entry id of an operation's run: its first (`<id>`), approved (`<id>-approved`) or resumed one. */
export function entryIdOf(operationId: string, phase?: "approved" | `resume-${number}`): string {
  return phase ? `${operationId}-${phase}` : operationId;
}

/**
 * The producer side: each stack's operations queue in the stack's FIFO, and the stack takes turns
 * on one shared BullMQ queue (src/workers/stack-turns.ts), so at most one operation of a stack runs
 * at a time across every worker process, in submission order, while stacks proceed in parallel.
 * Nothing here is per stack but the Redis keys of a stack with operations queued.
 */
export class StackQueues implements OperationQueue {
  readonly turns: StackTurns;

  constructor(
    connection: IORedis,
    private readonly publisher: IORedis,
    private readonly sites: readonly string[],
    settings: Partial<TurnSettings> = {},
  ) {
    // Only the producer's part is used here; the worker side's settings are WorkerPool's.
    this.turns = new StackTurns(connection, {
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      maxStalledCount: 1,
      sweepGraceMs: 60_000,
      keep: KEEP_TURNS,
      ...settings,
    });
  }

  /** The shared queue of turns (what Bull Board shows). */
  get turnQueue(): Queue<TurnJobData> {
    return this.turns.queue;
  }

  private site(site: string): string {
    if (!this.sites.includes(site)) throw new Error(`no queue for site ${site}`);
    return site;
  }

  /**
   * Each run is an entry of the stack's FIFO, named like the job ids it replaces: the operation id,
   * `<id>-approved` for an approved operation's second run, `<id>-resume-<n>` for a run that
   * continues an operation whose runs all ended without ending it. The same entry id queued again
   * is a no-op.
   */
  async enqueue(
    site: string,
    operationId: string,
    _kind: string,
    phase?: "approved" | `resume-${number}`,
  ): Promise<void> {
    await this.turns.enqueue(this.site(site), operationId, { entryId: entryIdOf(operationId, phase) });
  }

  /** Removes the operation's runs no turn has started; false when a worker already runs it. */
  async removeQueued(site: string, operationId: string): Promise<boolean> {
    return (await this.turns.remove(this.site(site), operationId)) > 0;
  }

  async signalCancel(operationId: string): Promise<void> {
    await this.publisher.publish(CANCEL_CHANNEL, operationId);
  }

  /** A stack's queued runs, oldest first (`started`: the one running). */
  async entries(site: string): Promise<Array<TurnEntry & { started: boolean }>> {
    return this.turns.entries(this.site(site));
  }

  /** Runs queued per stack (the running one included), from the FIFO lengths. */
  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const site of this.sites) out[site] = await this.turns.length(site);
    return out;
  }

  /** A stack's runs by state, as the metrics' queue depth reads them: waiting and active (0 or 1). */
  async queueCounts(site: string): Promise<Record<string, number>> {
    const e = await this.entries(site);
    const active = e.filter((x) => x.started).length;
    return { waiting: e.length - active, active, delayed: 0, prioritized: 0, failed: 0 };
  }

  async close(): Promise<void> {
    await this.turns.close();
  }
}
