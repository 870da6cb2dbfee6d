import type { OperationStatus } from "./operation-record";
import type { Verdict } from "./verdict";

/** An operation that reached a final status, as observers (metrics) see it. */
export interface FinishedOperation {
  id: string;
  site: string;
  kind: string;
  status: OperationStatus;
  reason?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  checks?: Verdict[];
  /** Set when the request rode on another operation (coalesced scale requests) and ran no engine of its own. */
  coalescedInto?: string;
}

/** A guard said no: at submission (the plan) or at run time (plan again, blast radius, live checks). */
export interface RefusalNotice {
  site: string;
  kind: string;
  rule: string;
  stage: "submit" | "run";
}

export interface OperationObserver {
  finished?(op: FinishedOperation): void;
  refused?(r: RefusalNotice): void;
}

const observers = new Set<OperationObserver>();

/**
 * The domain reports the two moments the operator's view counts (an operation ends, a guard
 * refuses) here, so the ledger and the service stay free of any metrics library. Returns the
 * unsubscribe function.
 */
export function addOperationObserver(o: OperationObserver): () => void {
  observers.add(o);
  return () => observers.delete(o);
}

export function hasOperationObservers(): boolean {
  return observers.size > 0;
}

/** Observers never break the operation: a throwing observer is ignored. */
export function notifyFinished(op: FinishedOperation): void {
  for (const o of observers) {
    try {
      o.finished?.(op);
    } catch {
      // an observer's bug must not fail an operation
    }
  }
}

export function notifyRefused(r: RefusalNotice): void {
  for (const o of observers) {
    try {
      o.refused?.(r);
    } catch {
      // as above
    }
  }
}
