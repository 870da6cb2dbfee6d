// Soak (not a test): kill -9 of workers at random points of random operations on several stacks,
// with every core kept busy, then the crash test's checks for every operation and stack.
//   npx tsc -p tsconfig.json && node dist/bench/crash-soak.js [kills=100] [seed]
// Prints a table per kill phase and writes bench/results/crash-soak.json.
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import IORedis from "ioredis";
import { deployedRevisionFromState } from "../src/programs/revision-guard";
import { engineLockFiles } from "../src/engine/recovery";
import { Ledger } from "../src/operations/ledger";
import { StackFileStore } from "../src/operations/stack-file-store";
import { readCalls } from "../src/sandbox/call-log";
import { sandboxDirFor } from "../src/service/sandbox-facts";
import { ApiClient } from "../test/workers/support/api-client";
import { deployBaseline, engineSettings, openSession, siteCloud } from "../test/workers/support/baseline";
import {
  createDeployment,
  FAST_STALLS,
  descendants,
  isRunning,
  projectRoot,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "../test/workers/support/service-harness";

const STACKS = ["theatl", "vulpine", "chitter", "datafruits"] as const;
// An operation may survive more kills than the production maxStalledCount (3), so that most kills
// exercise recovery rather than end in WORKER_LOST.
const SOAK_STALLS = { ...FAST_STALLS, STACKYARD_MAX_STALLED_COUNT: "10" };
const TERMINAL = ["succeeded", "failed", "cancelled", "expired"];

/** Where a kill lands, as the run makes it observable (phase events, provider calls), or a random delay. */
const PHASES = [
  "recover",
  "preview",
  "up",
  "first-create",
  "first-delete",
  "record",
  "random-delay",
] as const;
type Phase = (typeof PHASES)[number];

interface Kill {
  phase: Phase;
  stack: string;
  reached: boolean;
  operations: string[];
  /** The killed worker's processes as `pid:start time`: a pid alone may be reused in a long run. */
  tree: string[];
}

/** A small deterministic generator, so a seed reproduces a run's choices. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => (s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0) / 2 ** 32;
}

async function main(): Promise<void> {
  const kills = Number(process.argv[2] ?? 100);
  const seed = Number(process.argv[3] ?? Date.now() % 100000);
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const burner = startBurner();
  // The soak submits far more operations per site than an hour allows in production (20).
  const guardsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "soak-guards-")), "guards.json");
  fs.writeFileSync(
    guardsFile,
    JSON.stringify(Object.fromEntries(STACKS.map((s) => [s, { maxOperationsPerHour: 100_000 }]))),
  );
  const d = await createDeployment("soak", [...STACKS], {
    ...SOAK_STALLS,
    STACKYARD_GUARDS_FILE: guardsFile,
  });
  const redis = new IORedis(d.redis.url);
  const ledger = new Ledger(redis);
  const started = Date.now();
  let workers: ServiceProcess[] = [];
  let apiProc: ServiceProcess | undefined;
  const killed: Kill[] = [];
  const submitted = new Map<string, string>(); // operation id -> stack
  const active = new Map<string, string>(); // stack -> running operation id
  try {
    for (const s of STACKS) await deployBaseline(d, s);
    apiProc = await spawnService(d, "api", "api");
    const api = new ApiClient(`http://127.0.0.1:${apiProc.port}`, d.adminToken);
    let n = 0;
    workers = [
      await spawnService(d, "worker", `worker-${n++}`),
      await spawnService(d, "worker", `worker-${n++}`),
    ];
    // Provider calls take a moment, so engine runs are long enough to be interrupted anywhere.
    for (const s of STACKS) siteCloud(d, s).setFaults({ latencyMs: 400 });

    const submit = async (stack: string) => {
      const count = 1 + Math.floor(rand() * 5);
      const r = await api.post(`/v1/sites/${stack}/operations`, {
        operation: "scale-sidekiq",
        params: { count },
      });
      if (r.status !== 202) return; // a refusal accepts nothing: nothing to follow
      submitted.set(r.body.id, stack);
      active.set(stack, r.body.id);
    };

    for (let k = 0; k < kills; k++) {
      // Keep an operation going on every stack.
      for (const s of STACKS) {
        const id = active.get(s);
        const st = id ? (await ledger.get(id))?.status : undefined;
        if (!id || (st && TERMINAL.includes(st))) await submit(s);
      }
      const running: string[] = [];
      for (const s of STACKS)
        if (!TERMINAL.includes((await ledger.get(active.get(s) ?? "none"))?.status ?? "failed"))
          running.push(s);
      if (running.length === 0) continue;
      const stack = pick(running);
      const id = active.get(stack)!;
      const phase: Phase =
        stack === "theatl"
          ? pick(PHASES)
          : pick(PHASES.filter((p) => p !== "first-create" && p !== "first-delete"));
      const since = Date.now();
      const delayUntil = since + rand() * 6000;
      const reached = await waitFor(
        async () =>
          phase === "random-delay"
            ? Date.now() >= delayUntil
            : reachedPhase(d, ledger, stack, id, phase, since),
        45_000,
      );
      const holder = JSON.parse((await redis.get(`stackyard:stacklock:${stack}`)) ?? "{}") as {
        pid?: number;
      };
      const victim = workers.find((w) => w.child.pid === holder.pid) ?? pick(workers);
      const operations = await runningIn(redis, ledger, victim.child.pid!);
      const tree = descendants(victim.child.pid!).map(identity);
      await victim.killGroup();
      killed.push({ phase, stack, reached, operations, tree });
      workers = [...workers.filter((w) => w !== victim), await spawnService(d, "worker", `worker-${n++}`)];
      process.stdout.write(
        `kill ${k + 1}/${kills}: ${phase} on ${stack}${reached ? "" : " (phase not reached: killed anyway)"}, ${operations.length} operation(s) in the worker\n`,
      );
    }

    // Every accepted operation ends.
    const until = Date.now() + 900_000;
    for (const id of submitted.keys())
      await api.waitFor(id, Math.max(1000, until - Date.now())).catch(() => undefined);
    for (const s of STACKS) siteCloud(d, s).clearFaults();

    // The crash test's checks, for every operation and every stack.
    const opChecks = new Map<string, { lost: boolean; twice: boolean; status: string }>();
    for (const [id] of submitted) {
      const rec = await ledger.get(id);
      const events = await allEvents(ledger, id);
      const ends = events.filter(
        (e) => e.type === "status" && TERMINAL.includes(String(e.data.status)),
      ).length;
      opChecks.set(id, {
        lost: !rec || !TERMINAL.includes(rec.status),
        twice: ends > 1,
        status: rec?.status ?? "missing",
      });
    }
    const stackChecks = new Map<
      string,
      { wedged: boolean; locked: boolean; pending: number; duplicates: number; probe: string }
    >();
    for (const s of STACKS) {
      const session = await openSession(d, s);
      const state = await session.stack.exportStack();
      const deployed = deployedRevisionFromState(state) ?? 0;
      const file = new StackFileStore(d.workspace).load(s).configRevision;
      const pending = ((state.deployment?.pending_operations as unknown[]) ?? []).length;
      const locked =
        (await redis.get(`stackyard:stacklock:${s}`)) !== null ||
        engineLockFiles(engineSettings(d, s).stateDir, "stackyard", s).length > 0;
      const names = siteCloud(d, s)
        .list(undefined, s)
        .map((r) => `${r.type} ${r.urn.split("::").pop()}`);
      const duplicates = names.length - new Set(names).size;
      // Not wedged: a new operation on the stack runs to the end.
      const probe = await api
        .run(s, "scale-sidekiq", { count: 2 }, 600_000)
        .catch((e: Error) => ({ status: `error ${e.message}` }));
      stackChecks.set(s, {
        wedged: file < deployed || probe.status !== "succeeded",
        locked,
        pending,
        duplicates,
        probe: probe.status,
      });
    }
    await new Promise((r) => setTimeout(r, 3000)); // plugins notice their engine is gone within a second
    const orphans = killed.flatMap((k) => k.tree.filter(stillRunning));

    // One row per kill phase.
    const rows = PHASES.map((phase) => {
      const ks = killed.filter((k) => k.phase === phase);
      const ops = [...new Set(ks.flatMap((k) => k.operations))];
      const c = ops.map((id) => opChecks.get(id)).filter((x) => x !== undefined);
      return {
        phase,
        kills: ks.length,
        reached: ks.filter((k) => k.reached).length,
        operationsInterrupted: ops.length,
        succeeded: c.filter((x) => x.status === "succeeded").length,
        failed: c.filter((x) => x.status === "failed").length,
        lost: c.filter((x) => x.lost).length,
        finishedTwice: c.filter((x) => x.twice).length,
        orphans: ks.flatMap((k) => k.tree.filter(stillRunning)).length,
      };
    });
    const all = [...opChecks.values()];
    const summary = {
      seed,
      kills: killed.length,
      minutes: +((Date.now() - started) / 60_000).toFixed(1),
      operationsAccepted: submitted.size,
      lost: all.filter((x) => x.lost).length,
      finishedTwice: all.filter((x) => x.twice).length,
      byStatus: Object.fromEntries(TERMINAL.map((s) => [s, all.filter((x) => x.status === s).length])),
      stacksWedged: [...stackChecks.values()].filter((x) => x.wedged).length,
      stacksLocked: [...stackChecks.values()].filter((x) => x.locked).length,
      pendingOperations: [...stackChecks.values()].reduce((a, x) => a + x.pending, 0),
      resourcesCreatedTwice: [...stackChecks.values()].reduce((a, x) => a + x.duplicates, 0),
      orphanProcesses: orphans.length,
      stacks: Object.fromEntries(stackChecks),
    };
    console.log(
      "\n| kill phase | kills | phase reached | operations interrupted | succeeded | failed | lost | finished twice | orphans |",
    );
    console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const r of rows)
      console.log(
        `| ${r.phase} | ${r.kills} | ${r.reached} | ${r.operationsInterrupted} | ${r.succeeded} | ${r.failed} | ${r.lost} | ${r.finishedTwice} | ${r.orphans} |`,
      );
    console.log(JSON.stringify(summary, null, 2));
    const out = path.join(projectRoot, "bench", "results");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(
      path.join(out, "crash-soak.json"),
      JSON.stringify({ when: new Date().toISOString(), rows, summary }, null, 2) + "\n",
    );
    const failedOps = [...opChecks].filter(([, c]) => c.status === "failed");
    for (const [id] of failedOps.slice(0, 10)) console.log(`failed ${id}: ${(await ledger.get(id))?.reason}`);
    if (
      summary.lost +
        summary.finishedTwice +
        summary.stacksWedged +
        summary.stacksLocked +
        summary.resourcesCreatedTwice +
        summary.orphanProcesses >
      0
    )
      process.exitCode = 1;
  } finally {
    for (const w of workers) await w.stop().catch(() => undefined);
    await apiProc?.stop().catch(() => undefined);
    redis.disconnect();
    burner.kill("SIGTERM");
    await d.cleanup();
  }
}

/** True once the stack's operation is at `phase` since `since` (a random-delay kill point is timed by the caller). */
async function reachedPhase(
  d: Deployment,
  ledger: Ledger,
  stack: string,
  id: string,
  phase: Exclude<Phase, "random-delay">,
  since: number,
): Promise<boolean> {
  if (phase === "first-create" || phase === "first-delete") {
    const method = phase === "first-create" ? "create" : "delete";
    return readCalls(sandboxDirFor(d.sandboxDir, stack)).some(
      (c) => c.stack === stack && c.method === method && c.phase === "start" && Date.parse(c.ts) >= since,
    );
  }
  // Stream ids start with their millisecond timestamp: only this round's phase events count.
  return (await allEvents(ledger, id)).some(
    (e) => e.type === "phase" && e.data.phase === phase && Number(e.id.split("-")[0]) >= since,
  );
}

/** `pid:start time` (field 22 of /proc/<pid>/stat, in clock ticks since boot). */
function identity(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return `${pid}:${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
  } catch {
    return `${pid}:gone`;
  }
}

/** The same process (pid and start time) is still running: a reused pid is another process. */
function stillRunning(id: string): boolean {
  const pid = Number(id.split(":")[0]);
  return isRunning(pid) && identity(pid) === id;
}

/** Operations whose stack lock the worker holds right now. */
async function runningIn(redis: IORedis, ledger: Ledger, pid: number): Promise<string[]> {
  const out: string[] = [];
  for (const s of STACKS) {
    const h = JSON.parse((await redis.get(`stackyard:stacklock:${s}`)) ?? "{}") as {
      pid?: number;
      operationId?: string;
    };
    if (h.pid === pid && h.operationId && (await ledger.get(h.operationId))) out.push(h.operationId);
  }
  return out;
}

async function allEvents(ledger: Ledger, id: string) {
  const out = [];
  for (
    let batch = await ledger.readEvents(id, "0", 0);
    batch.length > 0;
    batch = await ledger.readEvents(id, out[out.length - 1]!.id, 0)
  )
    out.push(...batch);
  return out;
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function startBurner(): ChildProcess {
  return fork(path.join(__dirname, "cpu-burner.js"), ["7200"], { stdio: "inherit" });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
