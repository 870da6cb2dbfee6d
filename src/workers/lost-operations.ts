import * as os from "node:os";
import type { Job, Queue } from "bullmq";
import type { StackLock } from "../coordination/stack-lock";
import { pidAlive } from "../infra/pid-alive";
import type { Ledger } from "../operations/ledger";
import { failureFields, type OperationRecord } from "../operations/operation-record";
import type { Logger } from "../infra/observability/logger";
import type { OperationJobData } from "./stack-queues";

/** Job states from which BullMQ will still run the job. */
const PENDING = ["waiting", "active", "delayed", "prioritized", "waiting-children"];

export interface LostOperationsDeps {
  ledger: Ledger;
  stackLock: StackLock;
  queue: (site: string) => Queue<OperationJobData>;
  /** Queues a fresh job that continues the operation (`<id>-resume-<n>`). */
  resume: (site: string, rec: OperationRecord) => Promise<void>;
  logger: Logger;
}

/**
 * Operations that nothing will end any more: every job of theirs has ended without ending them and
 * no live run holds their stack. A worker can be killed at the moment BullMQ fails its job (the
 * `failed` event then reaches no one), or a run can stop without ending its operation (it lost the
 * stack lock to nobody). Checked when BullMQ reports a failed job and by a periodic sweep, so an
 * accepted operation is never left `running` or `queued` for ever:
 * - its job failed (stalled more than maxStalledCount): it ends `WORKER_LOST`;
 * - its jobs completed or are gone: a new job continues it (the runner resumes it through recovery).
 */
export class LostOperations {
  constructor(private readonly deps: LostOperationsDeps) {}

  /** Looks at one operation; returns what it did. */
  async check(site: string, operationId: string, why: string): Promise<"ended" | "resumed" | "alive"> {
    const { ledger, logger } = this.deps;
    const rec = await ledger.get(operationId);
    if (!rec || (rec.status !== "running" && rec.status !== "queued")) return "alive";
    // A request riding on another operation ends with it; it never has a job of its own.
    if (rec.coalescedInto) return "alive";
    if (await this.liveRunHolds(site, operationId)) return "alive";
    const jobs = await this.jobsOf(site, rec);
    const states = await Promise.all(jobs.map((j) => j.getState()));
    if (states.some((s) => PENDING.includes(s))) return "alive";
    if (states.includes("failed")) {
      const reason = jobs.find((_, i) => states[i] === "failed")?.failedReason ?? why;
      const ended = await ledger.transition(
        operationId,
        ["queued", "running"],
        "failed",
        { ...failureFields("WORKER_LOST", reason), finishedAt: new Date().toISOString() },
        { by: "worker-lost" },
      );
      if (ended)
        logger.warn("operation ended WORKER_LOST: its job failed and no run holds it", {
          operationId,
          stack: site,
          why,
        });
      return ended ? "ended" : "alive";
    }
    await this.deps.resume(site, rec);
    logger.warn("operation resumed: its jobs ended without ending it and no run holds it", {
      operationId,
      stack: site,
      why,
      states,
    });
    return "resumed";
  }

  /** Every site's operations that are `running`, or `queued` for longer than `queuedGraceMs` (a submit may not have queued its job yet). */
  async sweep(sites: readonly string[], queuedGraceMs: number): Promise<void> {
    for (const site of sites) {
      for (const rec of await this.deps.ledger.listForSite(site, 200)) {
        const old = Date.now() - Date.parse(rec.createdAt) > queuedGraceMs;
        if (rec.status === "running" || (rec.status === "queued" && old))
          await this.check(site, rec.id, "found by the periodic sweep").catch(() => undefined);
      }
    }
  }

  private async liveRunHolds(site: string, operationId: string): Promise<boolean> {
    const h = await this.deps.stackLock.holder(site);
    if (!h || h.operationId !== operationId) return false;
    // On this host a dead pid is provably gone; elsewhere the lock's expiry decides.
    return h.host !== os.hostname() || pidAlive(h.pid);
  }

  /** The operation's jobs: its first, its approved run, and the runs that resumed it. */
  private async jobsOf(site: string, rec: OperationRecord): Promise<Job<OperationJobData>[]> {
    const q = this.deps.queue(site);
    const ids = [
      rec.id,
      `${rec.id}-approved`,
      ...Array.from({ length: rec.attempts + 1 }, (_, n) => `${rec.id}-resume-${n}`),
    ];
    const jobs = await Promise.all(ids.map((id) => q.getJob(id)));
    return jobs.filter((j): j is Job<OperationJobData> => j !== undefined);
  }
}
