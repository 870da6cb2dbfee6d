import type { FailureCode } from "../errors";
import type { Refusal, Verdict } from "./verdict";
import type { OperationKind } from "./registry";
import type { HostConvergence } from "./host-convergence";
import type { DriftReport } from "./drift-report";
import type { PlannedChange } from "./types";

/**
 * `awaiting-approval`: previewed and checked, waiting for a second principal (no worker holds the
 * stack meanwhile); `expired`: nobody approved it in time.
 */
export const OPERATION_STATUSES = [
  "queued",
  "running",
  "awaiting-approval",
  "succeeded",
  "failed",
  "cancelled",
  "expired",
] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
export const TERMINAL_STATUSES: readonly OperationStatus[] = ["succeeded", "failed", "cancelled", "expired"];

/** Why an operation needs a second principal, and who released it. */
export interface ApprovalState {
  reasons: string[];
  /** Monthly cost change of the plan, in the site's currency. */
  costDelta?: number;
  /** Set when the operation starts waiting (after its preview). */
  requestedAt?: string;
  expiresAt?: string;
  /** The preview the approver saw: the up phase refuses if a new preview differs. */
  previewDigest?: string;
  /**
   * Each step the approver saw, as its value hash (op, resource, the values it would set; never the
   * values). A run resumed after a hand-back previews only what is left: that passes when every
   * step it shows is one of these and the params are the approved ones.
   */
  approvedSteps?: string[];
  /** The params the approver saw, as their digest. */
  paramsDigest?: string;
  approvedBy?: string;
  approvedAt?: string;
  /** Who turned it down (it then ended `cancelled`, failure APPROVAL_REJECTED). */
  rejectedBy?: string;
  rejectedAt?: string;
}

export function isTerminal(s: OperationStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

/** One step the worker took to bring an interrupted stack back to a runnable state. */
export interface RecoveryStep {
  at: string;
  step:
    | "stale-engine-lock-cleared"
    | "pending-operations-refreshed"
    | "pending-creates-cleared"
    | "pending-creates-adopted"
    | "stack-file-restored"
    | "stack-file-reverted"
    | "engine-state-sidecar-repaired"
    | "stack-lock-taken-over"
    | "waited-for-engine";
  detail: string;
}

export interface PreviewSummary {
  changes: Record<string, number>;
  /**
   * `unknownOnly`: an update whose every changed input is unknown until another step runs (a DNS
   * record following the address of a droplet updated in place): it follows from that step.
   */
  steps: Array<{ op: string; type: string; urn: string; unknownOnly?: true }>;
}

/**
 * The history of one operation: what was asked, by whom, what it planned, what the engine did,
 * and how it ended. Nothing in it holds a secret (outputs are redacted before they get here).
 */
export interface OperationRecord {
  id: string;
  site: string;
  kind: OperationKind;
  params: Record<string, unknown>;
  status: OperationStatus;
  /** `tokenId`: the principal who asked (never its approver); `via`: the schedule that submitted it for them. */
  requester: { tokenId: string; via?: string };
  idempotencyKey?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  attempts: number;
  plan?: { summary: string; changes: PlannedChange[]; noop: boolean };
  preview?: PreviewSummary;
  checks?: Verdict[];
  result?: { resourceChanges: Record<string, number>; engineResult: string };
  outputs?: Record<string, unknown>;
  revision?: { from: number; to: number; commit?: string };
  recovery: RecoveryStep[];
  timings: { queuedMs?: number; recoveryMs?: number; previewMs?: number; upMs?: number; totalMs?: number };
  /** The operation this request rode on (a coalesced scale request): it ran no engine of its own. */
  coalescedInto?: string;
  /** The human text clients read: for a failure, `"<code>: <message>"` (see `failure`). */
  reason?: string;
  /** Why the operation did not succeed, typed: the code of the rule or layer that said no. */
  failure?: OperationFailure;
  cancelRequested?: boolean;
  eventsSummary?: Record<string, number>;
  /** Every refusal, from any layer, with the rule, the value and the limit. */
  refusals?: Refusal[];
  /** Guards that passed with something worth keeping (e.g. an emergency failover outside the change window). */
  guardNotes?: string[];
  approval?: ApprovalState;
  /** Which path ended the operation (see Ledger.move): runner, worker-lost, cancel, expiry, rider, submit. */
  endedBy?: string;
  /** The stack lock's fence of the run that holds the operation (see Ledger.claimRun). */
  fence?: number;
  /** How the stack file was left when the operation ended without success (see stack-file-settlement.ts). */
  settlement?: StackFileSettlement;
  /** The verify phase: each host's expected and observed role after `up` (operations that move a database topology). */
  hosts?: HostConvergence;
  /** A detect-drift operation's finding (src/workers/drift-run.ts). */
  drift?: DriftReport;
  /**
   * A rehearsal (`"rehearse": true`): the whole run happened on a sandbox twin of the site
   * (src/workers/rehearsal-twin.ts). It never changes the live stack, its stack file, the git
   * remote or the deployed revision.
   */
  rehearsal?: boolean;
}

/** A failure as the record keeps it: a stable code (GUARD_REFUSED, WORKER_LOST, …) and its text. */
export interface OperationFailure {
  code: FailureCode;
  message: string;
}

/** The record fields of a failure: the typed `failure` and the `reason` text clients already read. */
export function failureFields(
  code: FailureCode,
  message: string,
): { failure: OperationFailure; reason: string } {
  return { failure: { code, message }, reason: `${code}: ${message}` };
}

/**
 * After a failed or cancelled run: what the engine had deployed, what it applied, and what became
 * of the stack file, so file and state agree (the file's revision is never below the deployed one).
 */
export interface StackFileSettlement {
  /** The `configRevision` the engine's state records as deployed, read after the engine stopped. */
  deployedRevision?: number;
  /** `restored`: back to the revision it had (nothing newer was deployed); `reverted`: the previous
   * spec written as a new revision, above the deployed one; `none`: this run had not written it. */
  action: "restored" | "reverted" | "none";
  /** The stack file's revision afterwards. */
  fileRevision?: number;
  /** Steps the engine completed in `up` before it stopped ("op urn"). */
  applied: string[];
  note: string;
}
