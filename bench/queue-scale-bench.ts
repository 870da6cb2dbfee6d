// Benchmark (not a test) of the queue layout for many stacks (issue 16; docs/operations.md, "Queue
// layout at scale"). Stub runner, no engine:
//   npx tsc -p tsconfig.json && node dist/bench/queue-scale-bench.js \
//     [--stacks 10000] [--ops 20000] [--workers 4] [--slots 8] [--min-ms 5] [--max-ms 20] \
//     [--compare-stacks 200] [--compare-ops 400]   (0 skips the comparison with today's layout)
// Starts its own redis-server on loopback; runs the shared-turn layout at full scale, then both
// layouts at the comparison scale (today's: a Queue, Worker and QueueEvents per stack per process).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import IORedis from "ioredis";
import { startPrivateRedis } from "../src/infra/redis-server";
import { projectRoot } from "../src/infra/paths";
import {
  burst,
  connectionsPerWorker,
  spawnWorker,
  waitForFinished,
  workload,
  type Producer,
  type WorkerProcess,
} from "./queue-layout/harness";
import { PerStackProducer } from "./queue-layout/per-stack-layout";
import { checkRuns } from "./queue-layout/run-checks";
import { StackTurns } from "../src/workers/stack-turns";
import { readRunLog, stubDurationMs } from "./queue-layout/stub-runner";
import { stackName, type WorkerConfig } from "./queue-layout/worker-config";

/** CPU seconds a process has used (utime + stime from /proc; 100 ticks a second on Linux). */
function cpuSeconds(pid: number): number {
  const f = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

function args(): Record<string, number> {
  const out: Record<string, number> = {
    stacks: 10_000,
    ops: 20_000,
    workers: 4,
    slots: 8,
    "min-ms": 5,
    "max-ms": 20,
    "compare-stacks": 200,
    "compare-ops": 400,
  };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const k = a[i]!.replace(/^--/, "");
    const v = Number(a[i + 1]);
    if (!(k in out) || !Number.isInteger(v) || v < 0)
      throw new Error(`bad argument ${a[i]} ${a[i + 1] ?? ""}`);
    out[k] = v;
  }
  if (out.ops! < out.stacks!) throw new Error("--ops must be at least --stacks");
  return out;
}

interface Scenario {
  layout: WorkerConfig["layout"];
  stacks: number;
  ops: number;
  workers: number;
  slots: number;
  minMs: number;
  maxMs: number;
}

async function runScenario(
  url: string,
  redis: IORedis,
  redisPid: number,
  s: Scenario,
): Promise<Record<string, unknown>> {
  await redis.flushall();
  const plan = workload(s.stacks, s.ops);
  const base: Omit<WorkerConfig, "tag"> = {
    layout: s.layout,
    slots: s.slots,
    stacks: s.stacks,
    minMs: s.minMs,
    maxMs: s.maxMs,
    lockDurationMs: 30_000,
    stalledIntervalMs: 30_000,
    maxStalledCount: 1,
    sweepGraceMs: 60_000,
  };
  const startT = Date.now();
  const workers: WorkerProcess[] = [];
  const producerConn = new IORedis(url, { maxRetriesPerRequest: null, connectionName: "bench-producer" });
  let producer: (Producer & { close(): Promise<void> }) | undefined;
  try {
    for (let i = 1; i <= s.workers; i++) workers.push(await spawnWorker(url, { ...base, tag: `w${i}` }));
    const startupMs = Date.now() - startT;
    if (s.layout === "turns") {
      producer = new StackTurns(producerConn, base);
    } else {
      const p = new PerStackProducer(
        { url, connectionName: "bench-producer" },
        Array.from({ length: s.stacks }, (_, i) => stackName(i)),
      );
      await p.ensureGlobalConcurrency();
      producer = p;
    }
    const idle = await connectionsPerWorker(redis, workers);
    const cpu0 = { redis: cpuSeconds(redisPid), workers: workers.map((w) => cpuSeconds(w.pid)) };
    const t0 = Date.now();
    await burst(producer, plan);
    const burstMs = Date.now() - t0;
    const busy = await connectionsPerWorker(redis, workers);
    await waitForFinished(redis, plan.length, 30 * 60_000);
    const cpu = {
      redisServer: +(cpuSeconds(redisPid) - cpu0.redis).toFixed(2),
      workers: +workers.reduce((a, w, i) => a + cpuSeconds(w.pid) - cpu0.workers[i]!, 0).toFixed(2),
    };
    const checks = checkRuns(plan, await readRunLog(redis));
    const totalWorkMs = plan.reduce((a, p) => a + stubDurationMs(p.operationId, s.minMs, s.maxMs), 0);
    const chain = new Map<string, number>();
    for (const p of plan)
      chain.set(p.stack, (chain.get(p.stack) ?? 0) + stubDurationMs(p.operationId, s.minMs, s.maxMs));
    // Today's layout runs one job per stack per process; its slots are the stacks (times processes).
    const slots = s.layout === "turns" ? s.workers * s.slots : s.workers * s.stacks;
    const idealMs = totalWorkMs / slots;
    const drainMs = checks.lastEnd - checks.firstEnqueue;
    const info = (await redis.info("clients")).match(/connected_clients:(\d+)/)?.[1];
    return {
      ...s,
      workerStartupMs: startupMs,
      connectionsPerWorker: Object.fromEntries(busy.map((c) => [c.tag, c.total])),
      connectionsPerWorkerIdle: Object.fromEntries(idle.map((c) => [c.tag, c.total])),
      connectionNames: busy[0]?.byName,
      redisConnectedClients: Number(info),
      burstMs,
      drainMs: Math.round(drainMs),
      throughputOpsPerS: +(plan.length / (drainMs / 1000)).toFixed(1),
      queueWaitMs: {
        p50: Math.round(checks.waitMs.p50),
        p99: Math.round(checks.waitMs.p99),
        max: Math.round(checks.waitMs.max),
      },
      fifoPerStackHeld: checks.fifoViolations === 0 && checks.seqMismatches === 0 ? "yes" : "no",
      fifoViolations: checks.fifoViolations + checks.seqMismatches,
      overlapsPerStack: checks.overlaps,
      lost: checks.lost.length,
      finishedTwice: checks.finishedTwice.length,
      totalWorkMs,
      workerSlots: slots,
      idealDrainMs: Math.round(idealMs),
      longestStackChainMs: Math.max(...chain.values()),
      drainToIdealRatio: +(drainMs / idealMs).toFixed(2),
      // The drain can never beat the longest stack's own chain of operations either.
      drainToBoundRatio: +(drainMs / Math.max(idealMs, Math.max(...chain.values()))).toFixed(2),
      maxOpsOnOneStack: Math.max(...plan.map((p) => p.order)),
      cpuSecondsFromBurstToDrained: cpu,
      cpuMsPerOp: +((1000 * (cpu.redisServer + cpu.workers)) / plan.length).toFixed(2),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await producer?.close().catch(() => undefined);
    producerConn.disconnect();
  }
}

async function main(): Promise<void> {
  const a = args();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "queue-scale-bench-"));
  const handle = await startPrivateRedis(dir);
  const redis = new IORedis(handle.url, { maxRetriesPerRequest: null, connectionName: "bench" });
  const common = { workers: a.workers!, slots: a.slots!, minMs: a["min-ms"]!, maxMs: a["max-ms"]! };
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    host: { cpus: os.cpus().length, loadavg1m: +os.loadavg()[0]!.toFixed(2) },
  };
  try {
    results.turnsFullScale = await runScenario(handle.url, redis, handle.process!.pid!, {
      layout: "turns",
      stacks: a.stacks!,
      ops: a.ops!,
      ...common,
    });
    process.stderr.write(`full scale done\n`);
    if (a["compare-stacks"]! > 0) {
      const cmp = { stacks: a["compare-stacks"]!, ops: Math.max(a["compare-ops"]!, a["compare-stacks"]!) };
      results.turnsCompareScale = await runScenario(handle.url, redis, handle.process!.pid!, {
        layout: "turns",
        ...cmp,
        ...common,
      });
      results.perStackCompareScale = await runScenario(handle.url, redis, handle.process!.pid!, {
        layout: "per-stack",
        ...cmp,
        ...common,
      });
    }
    const outDir = path.join(projectRoot, "bench", "results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `queue-scale-${Date.now()}.json`), JSON.stringify(results, null, 2));
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  } finally {
    redis.disconnect();
    await handle.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
