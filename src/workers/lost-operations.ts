import * as os from "node:os";
import type { Job } from "bullmq";
import type { StackLock } from "../coordination/stack-lock";
import { pidAlive } from "../infra/pid-alive";
import type { Ledger } from "../operations/ledger";
import { failureFields, isTerminal, type OperationRecord } from "../operations/operation-record";
import type { Logger } from "../infra/observability/logger";
import type { StackTurns, TurnEntry, TurnJobData } from "./stack-turns";

export interface LostOperationsDeps {
  ledger: Ledger;
  stackLock: StackLock;
  /** The stacks' FIFOs of runs. */
  turns: StackTurns;
  /** Queues a fresh run that continues the operation (`<id>-resume-<n>`). */
  resume: (site: string, rec: OperationRecord) => Promise<void>;
  logger: Logger;
}

/**
 * Operations that nothing will end any more. A worker can be killed at the moment BullMQ fails its
 * turn, or a run can stop without ending its operation (it lost the stack lock to nobody). Found
 * from the stacks' FIFOs and the ledger, when BullMQ reports a failed turn and by a periodic sweep,
 * so an accepted operation is never left `running` or `queued` for ever:
 * - the turn running it failed (stalled more than maxStalledCount) while no live run holds the
 *   stack: it ends `WORKER_LOST` and the stack's turn passes on (`lostTurn`);
 * - it has no run left in its stack's FIFO: a new run continues it (the runner resumes it through
 *   recovery).
 */
export class LostOperations {
  constructor(private readonly deps: LostOperationsDeps) {}

  /** Looks at one operation; returns what it did. */
  async check(site: string, operationId: string, why: string): Promise<"resumed" | "alive"> {
    const { ledger, logger } = this.deps;
    const rec = await ledger.get(operationId);
    if (!rec || (rec.status !== "running" && rec.status !== "queued")) return "alive";
    // A request riding on another operation ends with it; it never has a run of its own.
    if (rec.coalescedInto) return "alive";
    if (await this.liveRunHolds(site, operationId)) return "alive";
    // Queued runs are the turns' to start (their sweeper repairs a turn whose job is gone).
    const entries = await this.deps.turns.entries(site);
    if (entries.some((e) => e.operationId === operationId)) return "alive";
    await this.deps.resume(site, rec);
    logger.warn("operation resumed: its runs ended without ending it and no run holds it", {
      operationId,
      stack: site,
      why,
    });
    return "resumed";
  }

  /**
   * A turn BullMQ failed while it still held its stack (its worker died more often than
   * maxStalledCount allows, or its attempts ran out): the head it was running ends `WORKER_LOST`
   * unless a live run still holds the stack (then look again later), and the turn passes on.
   */
  async lostTurn(
    stack: string,
    job: Job<TurnJobData>,
    head: TurnEntry | undefined,
  ): Promise<"pass" | "wait"> {
    if (!head) return "pass";
    const { ledger, logger } = this.deps;
    const rec = await ledger.get(head.operationId);
    if (!rec || isTerminal(rec.status) || rec.coalescedInto) return "pass";
    if (await this.liveRunHolds(stack, head.operationId)) return "wait";
    const reason = job.failedReason || "its turn failed";
    const ended = await ledger.transition(
      head.operationId,
      ["queued", "running"],
      "failed",
      { ...failureFields("WORKER_LOST", reason), finishedAt: new Date().toISOString() },
      { by: "worker-lost" },
    );
    if (ended)
      logger.warn("operation ended WORKER_LOST: its turn failed and no run holds it", {
        operationId: head.operationId,
        stack,
        turn: job.id,
      });
    return "pass";
  }

  /** Every site's operations that are `running`, or `queued` for longer than `queuedGraceMs` (a submit may not have queued its run yet). */
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
}
