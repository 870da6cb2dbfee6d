// What the run log says about a layout: one run at a time per stack, FIFO per stack, nothing lost,
// nothing finished twice, queue waits and drain time. Shared by the benchmark and the test.
import type { RunRecord, RunStart } from "./stub-runner";

/** An operation the producer submitted, and its place in its stack's submission order (1, 2, …). */
export interface Submitted {
  operationId: string;
  stack: string;
  order: number;
}

export interface RunChecks {
  submitted: number;
  finished: number;
  /** Submitted operations with no finished run. */
  lost: string[];
  /** Operations with more than one finished run. */
  finishedTwice: string[];
  /** Runs that started and never finished (cut short by a kill), by worker. */
  cutShort: Record<string, number>;
  /** Runs that found their operation already finished. */
  skipped: number;
  /** Pairs of runs of one stack that overlapped in time (must be 0). */
  overlaps: number;
  /** Consecutive finished runs of a stack out of submission order (must be 0). */
  fifoViolations: number;
  /** The layout's sequence number disagrees with the submission order. */
  seqMismatches: number;
  waitMs: { p50: number; p99: number; max: number };
  firstEnqueue: number;
  lastEnd: number;
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

const runKey = (r: RunStart) => `${r.operationId}|${r.worker}|${r.start}`;

/**
 * `killedAt`: worker tag → when it was killed; a run of it that never finished counts as running
 * until then (a run cut short on another worker would count as running for ever, and overlap).
 */
export function checkRuns(
  submitted: Submitted[],
  log: { starts: RunStart[]; runs: RunRecord[]; skips: RunStart[] },
  killedAt: Record<string, number> = {},
): RunChecks {
  const order = new Map(submitted.map((s) => [s.operationId, s]));
  const ended = new Set([...log.runs, ...log.skips].map(runKey));
  const cut = log.starts.filter((s) => !ended.has(runKey(s)));
  const cutShort: Record<string, number> = {};
  for (const c of cut) cutShort[c.worker] = (cutShort[c.worker] ?? 0) + 1;

  // Every interval in which a stack was being updated: finished runs, and runs cut short.
  const byStack = new Map<string, Array<{ start: number; end: number }>>();
  const add = (stack: string, start: number, end: number) =>
    byStack.set(stack, [...(byStack.get(stack) ?? []), { start, end }]);
  for (const r of log.runs) add(r.stack, r.start, r.end);
  for (const c of cut) add(c.stack, c.start, killedAt[c.worker] ?? Infinity);
  let overlaps = 0;
  for (const xs of byStack.values()) {
    xs.sort((a, b) => a.start - b.start);
    let reach = -Infinity;
    for (const x of xs) {
      if (x.start < reach) overlaps++;
      reach = Math.max(reach, x.end);
    }
  }

  const firstRun = new Map<string, RunRecord>();
  const finishedTwice = new Set<string>();
  for (const r of log.runs) {
    if (firstRun.has(r.operationId)) finishedTwice.add(r.operationId);
    else firstRun.set(r.operationId, r);
  }
  const perStack = new Map<string, RunRecord[]>();
  for (const r of firstRun.values()) perStack.set(r.stack, [...(perStack.get(r.stack) ?? []), r]);
  let fifoViolations = 0;
  let seqMismatches = 0;
  for (const rs of perStack.values()) {
    rs.sort((a, b) => a.start - b.start);
    for (let i = 0; i < rs.length; i++) {
      const o = order.get(rs[i]!.operationId)?.order;
      if (o !== rs[i]!.seq) seqMismatches++;
      if (i > 0 && (order.get(rs[i - 1]!.operationId)?.order ?? 0) > (o ?? 0)) fifoViolations++;
    }
  }

  const waits = [...firstRun.values()].map((r) => r.start - r.enqueuedAt);
  return {
    submitted: submitted.length,
    finished: firstRun.size,
    lost: submitted.filter((s) => !firstRun.has(s.operationId)).map((s) => s.operationId),
    finishedTwice: [...finishedTwice],
    cutShort,
    skipped: log.skips.length,
    overlaps,
    fifoViolations,
    seqMismatches,
    waitMs: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: Math.max(...waits) },
    firstEnqueue: Math.min(...[...firstRun.values()].map((r) => r.enqueuedAt)),
    lastEnd: Math.max(...log.runs.map((r) => r.end)),
  };
}
