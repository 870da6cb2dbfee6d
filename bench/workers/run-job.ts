import type { RunnerDeps } from "../../src/workers/runner-deps";
import { runOperation } from "../../src/workers/operation-runner";

/** What a benchmark job returns: the runner's own time and the process that ran it. */
export interface BenchJobResult {
  operationId: string;
  status: string;
  reason?: string;
  runnerMs: number;
  pid: number;
  /** This process's RSS when the run ended (bytes). */
  rssAfter: number;
}

export interface BenchJobData {
  operationId: string;
}

/** The processor body both layouts run: the service's runner on one operation. */
export async function runBenchJob(deps: RunnerDeps, data: BenchJobData): Promise<BenchJobResult> {
  const t = performance.now();
  const outcome = await runOperation(deps, data.operationId);
  return {
    operationId: data.operationId,
    status: outcome.status,
    ...(outcome.reason ? { reason: outcome.reason.slice(0, 300) } : {}),
    runnerMs: Math.round(performance.now() - t),
    pid: process.pid,
    rssAfter: process.memoryUsage.rss(),
  };
}
