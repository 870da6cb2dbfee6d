import { Counter, Histogram, Registry } from "prom-client";
import { addOperationObserver, type FinishedOperation } from "../operations/finish-observers";

/**
 * Process-wide operation metrics. Observed where operations end (the ledger) and where guards refuse
 * (submission and run), so they live in whichever process did the work: with `--role=all` that is
 * the one `/metrics` serves; split deployments scrape each API process and see what it accepted and
 * refused (see docs/operator-view.md).
 */
export const operationRegistry = new Registry();

export const operationDuration = new Histogram({
  name: "stackyard_operation_duration_seconds",
  help: "Operation run time (start to final status; queue wait excluded) by type and outcome",
  labelNames: ["kind", "outcome"] as const,
  buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
  registers: [operationRegistry],
});

export const operationQueueWait = new Histogram({
  name: "stackyard_operation_queue_wait_seconds",
  help: "Time from acceptance to start, by type",
  labelNames: ["kind"] as const,
  buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
  registers: [operationRegistry],
});

export const coalescedRequests = new Counter({
  name: "stackyard_operations_coalesced_total",
  help: "Requests that rode on a queued operation instead of running the engine themselves, by type and outcome",
  labelNames: ["kind", "outcome"] as const,
  registers: [operationRegistry],
});

export const guardRefusals = new Counter({
  name: "stackyard_guard_refusals_total",
  help: "Guard refusals by rule, operation type and stage (submit: nothing queued; run: refused before up)",
  labelNames: ["rule", "kind", "stage"] as const,
  registers: [operationRegistry],
});

function observeFinished(op: FinishedOperation): void {
  if (op.coalescedInto) {
    coalescedRequests.inc({ kind: op.kind, outcome: op.status });
    return;
  }
  const end = Date.parse(op.finishedAt ?? new Date().toISOString());
  const start = Date.parse(op.startedAt ?? op.createdAt);
  operationDuration.observe({ kind: op.kind, outcome: op.status }, Math.max(0, (end - start) / 1000));
  if (op.startedAt)
    operationQueueWait.observe(
      { kind: op.kind },
      Math.max(0, (Date.parse(op.startedAt) - Date.parse(op.createdAt)) / 1000),
    );
}

let installed = false;

/** Idempotent: the service and tests may call it more than once in one process. */
export function installOperationMetrics(): void {
  if (installed) return;
  installed = true;
  addOperationObserver({
    finished: observeFinished,
    refused: (r) => guardRefusals.inc({ rule: r.rule, kind: r.kind, stage: r.stage }),
  });
}
