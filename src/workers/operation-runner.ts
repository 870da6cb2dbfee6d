import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { EngineSettings } from "../engine/engine-env";
import type { PendingCreateVerdict } from "../engine/recovery";
import type { StackLock } from "../coordination/stack-lock";
import type { GuardEnvironment } from "../operations/guards/evaluate-guards";
import type { LiveFacts } from "../operations/live-db-node";
import type { Ledger } from "../operations/ledger";
import { isTerminal, type OperationRecord } from "../operations/operation-record";
import type { StackFileStore } from "../operations/stack-file-store";
import type { PolicyOverrides } from "../policy/policy-settings";
import type { Logger } from "../infra/observability/logger";
import { OperationRun } from "./operation-run";

export interface RunnerDeps {
  ledger: Ledger;
  stackFiles: StackFileStore;
  stackLock: StackLock;
  /** Engine settings per stack (in the sandbox each site is its own simulated cloud account). */
  engine: (site: string) => EngineSettings;
  projectName: string;
  program: () => PulumiFn;
  facts: LiveFacts;
  inspectPendingCreate?: (site: string, urn: string) => PendingCreateVerdict;
  git: { enabled: boolean; author: { name: string; email: string } };
  logger: Logger;
  /** Strings that must never reach the ledger (the passphrase). */
  secrets: readonly string[];
  stackLockWaitMs: number;
  liveEngineLockWaitMs: number;
  foreignEngineLockStaleMs: number;
  /** Guard settings, clock and run history (src/operations/guards/). */
  guards: GuardEnvironment;
  /** Policy pack folders run on every preview and up (the repo's policy-pack/ in the service). */
  policyPacks: string[];
  /** Per-site sizes and resource ceiling for the pack (STACKYARD_POLICY_FILE); defaults where absent. */
  policyOverrides?: PolicyOverrides;
  /** How long a risky operation waits for approval after its preview. */
  approvalTtlMs: number;
}

/**
 * How a run ended. `handed-back`: queued again for another worker (shutdown); `superseded`: another
 * run of the same operation holds it now (this one lost the stack, or the operation had ended), so
 * this one stopped without touching the stack, the file or the record.
 */
export type RunOutcome = {
  status: OperationRecord["status"] | "handed-back" | "superseded";
  reason?: string;
  alreadyFinished?: boolean;
};

/** The abort reason a shutting-down worker uses: the operation goes back to the queue instead of ending. */
export const SHUTDOWN_REASON = "stackyard:worker-shutdown";

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
