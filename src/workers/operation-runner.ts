import { isTerminal } from "../operations/operation-record";
import { OperationRun } from "./operation-run";
import type { RunnerDeps, RunOutcome } from "./runner-deps";

export { SHUTDOWN_REASON, type RunnerDeps, type RunOutcome } from "./runner-deps";

/**
 * One operation, start to end, under the stack lock (see OperationRun for the phases). Safe to run
 * again on the same operation (a retry after a crash, or a stalled job run twice by BullMQ): only
 * the run holding the stack lock, and the operation's latest fence, changes anything.
 */
export async function runOperation(
  deps: RunnerDeps,
  operationId: string,
  signal?: AbortSignal,
): Promise<RunOutcome> {
  const { ledger } = deps;
  const rec = await ledger.get(operationId);
  if (!rec) return { status: "failed", reason: `no ledger record for ${operationId}` };
  if (isTerminal(rec.status)) return { status: rec.status, reason: rec.reason, alreadyFinished: true };

  const lock = await deps.stackLock.acquire(rec.site, operationId, deps.stackLockWaitMs);
  if ("busy" in lock) {
    // Global concurrency should make this impossible; if it happens, a paused process still holds the stack.
    const reason = `stack ${rec.site} is held by operation ${lock.busy.operationId} (pid ${lock.busy.pid} on ${lock.busy.host})`;
    if (lock.busy.operationId === operationId) {
      // The same operation, run by another worker (a stalled job BullMQ started again): that run owns it.
      deps.logger.warn("a second run of this operation found the first still holding the stack; it stops", {
        operationId,
        stack: rec.site,
      });
      return { status: "superseded", reason };
    }
    await ledger.transition(operationId, ["queued", "running"], "failed", {
      reason,
      finishedAt: new Date().toISOString(),
    });
    return { status: "failed", reason };
  }
  try {
    return await new OperationRun(deps, operationId, rec.site, lock, signal).run();
  } finally {
    await lock.release();
  }
}
