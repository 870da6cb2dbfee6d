import * as os from "node:os";
import * as path from "node:path";
import { BenchSite, type OpResult } from "./bench-site";
import { writeFaultPlan, type FaultPlan } from "./fault-program";
import { startWorker, type Layout } from "./worker-process";

/** What a fault in one run did to the other run in the same worker (concurrency 2). */
export interface CrashCase {
  layout: Layout;
  fault: FaultPlan["kind"];
  loadAvg1m: number;
  faulty: OpResult;
  victim: OpResult;
  workerSurvived: boolean;
  /** When the worker process died: the same two operations once a fresh worker took their jobs back. */
  afterRestart?: { faulty: OpResult; victim: OpResult; waitedMs: number };
}

const TERMINAL = new Set(["completed", "failed"]);

/** Polls until both jobs settled or the worker died with them still active, or `timeoutMs`. */
async function settleOrDeath(
  site: BenchSite,
  ops: Array<{ site: string; operationId: string; at: number }>,
  alive: () => boolean,
  timeoutMs: number,
): Promise<OpResult[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rs = await Promise.all(ops.map((o) => site.read(o, Date.now() - o.at)));
    if (rs.every((r) => TERMINAL.has(r.jobState)) || !alive() || Date.now() > until) return rs;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A fresh deployment of two stacks; the fault planned in one run while the other is mid-up. */
export async function crashCase(layout: Layout, fault: FaultPlan["kind"]): Promise<CrashCase> {
  const [faultStack, victimStack] = ["theatl", "chitter"];
  const site = await BenchSite.create(`bench-crash-${layout}-${fault}`, [faultStack, victimStack]);
  try {
    writeFaultPlan(site.faultDir, { faultStack, victimStack, kind: fault });
    const loadAvg1m = os.loadavg()[0]!;
    const log = path.join(site.d.dir, `worker-${layout}-${fault}.log`);
    const w = await startWorker(layout, site.env, log);
    let afterRestart: CrashCase["afterRestart"];
    let faulty: OpResult, victim: OpResult, workerSurvived: boolean;
    try {
      const ops = await Promise.all([site.submit(faultStack), site.submit(victimStack)]);
      [faulty, victim] = (await settleOrDeath(site, ops, w.alive, 240_000)) as [OpResult, OpResult];
      workerSurvived = w.alive();
      if (!workerSurvived) {
        // What the service does after a worker process died: another worker takes the stalled jobs.
        writeFaultPlan(site.faultDir, undefined);
        await w.stop();
        const t = Date.now();
        const w2 = await startWorker(layout, site.env, log);
        try {
          const rs = (await settleOrDeath(site, ops, w2.alive, 240_000)) as [OpResult, OpResult];
          afterRestart = { faulty: rs[0], victim: rs[1], waitedMs: Date.now() - t };
        } finally {
          await w2.stop();
        }
      }
    } finally {
      await w.stop();
    }
    return {
      layout,
      fault,
      loadAvg1m,
      faulty,
      victim,
      workerSurvived,
      ...(afterRestart ? { afterRestart } : {}),
    };
  } finally {
    await site.close();
  }
}
