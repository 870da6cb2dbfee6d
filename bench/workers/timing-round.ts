import * as os from "node:os";
import * as path from "node:path";
import type { BenchSite, OpResult } from "./bench-site";
import { MemorySampler, type MemorySample } from "./memory";
import { startWorker, type Layout } from "./worker-process";

/** One round of one layout: a fresh worker process, three runs, its memory throughout. */
export interface TimingRound {
  layout: Layout;
  loadAvg1m: number;
  workerStartMs: number;
  /** The worker's first operation (a sandboxed child is forked and builds its deps here). */
  first: OpResult;
  /** The second, on the same stack: a warm worker (a sandboxed child re-used). */
  warm: OpResult;
  /** Two stacks at once (concurrency 2: a second child for the sandboxed layout). */
  pair: OpResult[];
  pairWallMs: number;
  memory: { idle: MemorySample; peak?: MemorySample; steady: MemorySample };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function assertSucceeded(r: OpResult): OpResult {
  if (r.ledgerStatus !== "succeeded")
    throw new Error(
      `${r.site} ${r.operationId}: ${r.jobState} / ${r.ledgerStatus}: ${r.ledgerReason ?? r.failedReason}`,
    );
  return r;
}

export async function timingRound(
  site: BenchSite,
  layout: Layout,
  sites: [string, string],
): Promise<TimingRound> {
  const loadAvg1m = os.loadavg()[0]!;
  const w = await startWorker(layout, site.env, path.join(site.d.dir, `worker-${layout}.log`));
  const mem = new MemorySampler(w.pid);
  try {
    await sleep(1000);
    const idle = mem.now();
    const busyFrom = Date.now();
    const first = assertSucceeded(await site.settle(await site.submit(sites[0])));
    const warm = assertSucceeded(await site.settle(await site.submit(sites[0])));
    const t = Date.now();
    const subs = await Promise.all(sites.map((s) => site.submit(s)));
    const pair = (await Promise.all(subs.map((s) => site.settle(s)))).map(assertSucceeded);
    const pairWallMs = Date.now() - t;
    const peak = mem.peakSince(busyFrom);
    await sleep(1500);
    const steady = mem.now();
    return {
      layout,
      loadAvg1m,
      workerStartMs: w.startMs,
      first,
      warm,
      pair,
      pairWallMs,
      memory: { idle, peak, steady },
    };
  } finally {
    mem.stop();
    await w.stop();
  }
}
