import { Queue, type ConnectionOptions } from "bullmq";
import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import type { OperationQueue } from "../operations/operation-service";

/** One BullMQ queue per stack: `stack-<site>` (no `:`, which BullMQ reserves). */
export function stackQueueName(site: string): string {
  return `stack-${site}`;
}

/** What a job carries: the operation id only. The ledger holds the request; Redis job data stays free of anything sensitive. */
export interface OperationJobData {
  operationId: string;
}

export const CANCEL_CHANNEL = redisKeys.cancelChannel;

/** Finished jobs are kept for a week so a duplicate add with the same job id stays a no-op. */
const KEEP = { age: 7 * 24 * 3600 };

/**
 * The producer side: a queue per stack with global concurrency 1, so at most one job of a stack
 * is active across every worker process, while stacks proceed in parallel.
 */
export class StackQueues implements OperationQueue {
  private readonly queues = new Map<string, Queue<OperationJobData>>();

  constructor(
    connection: ConnectionOptions,
    private readonly publisher: IORedis,
    sites: readonly string[],
  ) {
    for (const site of sites)
      this.queues.set(site, new Queue<OperationJobData>(stackQueueName(site), { connection }));
  }

  /** Idempotent; every process that starts calls it, so a fresh Redis gets the limit before the first job runs. */
  async ensureGlobalConcurrency(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.setGlobalConcurrency(1)));
  }

  queue(site: string): Queue<OperationJobData> {
    const q = this.queues.get(site);
    if (!q) throw new Error(`no queue for site ${site}`);
    return q;
  }

  /**
   * The job id is the operation id, so a duplicate add is a no-op; an approved operation's second
   * run is its own job (`<id>-approved`), since the first one is kept as completed, and so is a run
   * that continues an operation whose jobs all ended without ending it (`<id>-resume-<n>`).
   */
  async enqueue(
    site: string,
    operationId: string,
    kind: string,
    phase?: "approved" | `resume-${number}`,
  ): Promise<void> {
    const jobId = phase ? `${operationId}-${phase}` : operationId;
    // No stack traces on jobs: Bull Board shows them, with the paths of the host the worker runs on.
    await this.queue(site).add(
      kind,
      { operationId },
      { jobId, attempts: 1, removeOnComplete: KEEP, removeOnFail: KEEP, stackTraceLimit: 0 },
    );
  }

  async removeQueued(site: string, operationId: string): Promise<boolean> {
    const job =
      (await this.queue(site).getJob(`${operationId}-approved`)) ??
      (await this.queue(site).getJob(operationId));
    if (!job) return false;
    const state = await job.getState();
    if (state !== "waiting" && state !== "delayed" && state !== "prioritized") return false;
    try {
      await job.remove();
      return true;
    } catch {
      return false; // a worker took it between the two calls: cancel it as a running job
    }
  }

  async signalCancel(operationId: string): Promise<void> {
    await this.publisher.publish(CANCEL_CHANNEL, operationId);
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [site, q] of this.queues) {
      const c = await q.getJobCounts("waiting", "active", "delayed", "completed", "failed", "prioritized");
      out[site] = Object.values(c).reduce((a, b) => a + b, 0);
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
