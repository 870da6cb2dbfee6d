import type { GitRemote } from "../operations/git-remote";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { EngineSettings } from "../engine/engine-env";
import type { PendingCreateVerdict } from "../engine/recovery";
import type { StackLock } from "../coordination/stack-lock";
import type { GuardEnvironment } from "../operations/guards/evaluate-guards";
import type { LiveFacts } from "../operations/live-db-node";
import type { Ledger } from "../operations/ledger";
import type { OperationRecord } from "../operations/operation-record";
import type { StackFileStore } from "../operations/stack-file-store";
import type { PolicyOverrides } from "../policy/policy-settings";
import type { Logger } from "../infra/observability/logger";
import type { DriftReports } from "../operations/drift-store";
import type { SiteDriftSettings } from "../operations/drift-settings";
import type { TwinBuilder } from "./rehearsal-twin";

/** What a run of an operation is given: built once by the service (src/service/service.ts). */
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
  git: {
    enabled: boolean;
    author: { name: string; email: string };
    /** STACKYARD_GIT_REMOTE: the branch every machine plans on; pulled before planning, pushed after an apply. */
    remote?: GitRemote;
  };
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
  /** The verify phase: how long the hosts may take to reach an operation's state, and how often they are observed. */
  hostVerify: { timeoutMs: number; intervalMs: number };
  /** Drift reports (the site's latest, kept in Redis) and per-site drift settings. @defaultValue none: reports stay on the record only */
  drift?: { reports: DriftReports; settings: (site: string) => SiteDriftSettings };
  /** Rehearsals (`"rehearse": true`): builds the site's sandbox twin, one per operation. @defaultValue none: a rehearsal fails, saying rehearsals are not set up */
  rehearsal?: { twin: TwinBuilder };
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
