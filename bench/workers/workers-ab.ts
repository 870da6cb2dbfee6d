// Benchmark (not a test): in-process workers (A) against BullMQ sandboxed processors (B).
// `npx tsc -p tsconfig.json && node dist/bench/workers/workers-ab.js [pairs=5] [crash=yes|no|only] [b=sandboxed|threads]`
// Real engine, real Redis, sandbox clouds: scale-sidekiq on theATL and Chitter. Rounds run A B B A …
// (a fresh worker process each), then the crash cases (docs/operations.md, "In-process or sandboxed workers").
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../test/workers/support/service-harness";
import { BenchSite } from "./bench-site";
import { crashCase, type CrashCase } from "./crash-case";
import { timingRound, type TimingRound } from "./timing-round";
import type { Layout } from "./worker-process";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const MB = 1024 * 1024;
const mb = (b: number) => +(b / MB).toFixed(1);

function summarize(rounds: TimingRound[], bLayout: Layout) {
  const of = (l: Layout) => rounds.filter((r) => r.layout === l);
  const figures = {
    "first op submit→done (ms)": (r: TimingRound) => r.first.submitToDoneMs,
    "first op runner (ms)": (r: TimingRound) => r.first.result!.runnerMs,
    "warm op submit→done (ms)": (r: TimingRound) => r.warm.submitToDoneMs,
    "warm op runner (ms)": (r: TimingRound) => r.warm.result!.runnerMs,
    "two stacks at once, wall (ms)": (r: TimingRound) => r.pairWallMs,
    "worker start (ms)": (r: TimingRound) => r.workerStartMs,
    "idle RSS, worker + children (MB)": (r: TimingRound) => mb(r.memory.idle.worker + r.memory.idle.children),
    "peak RSS, worker + children (MB)": (r: TimingRound) =>
      mb(r.memory.peak!.worker + r.memory.peak!.children),
    "steady RSS after 2 slots, worker + children (MB)": (r: TimingRound) =>
      mb(r.memory.steady.worker + r.memory.steady.children),
    "steady sandboxed child processes": (r: TimingRound) => r.memory.steady.childCount,
    "peak engine RSS below the worker (MB)": (r: TimingRound) => mb(r.memory.peak!.engine),
  };
  return Object.fromEntries(
    Object.entries(figures).map(([k, f]) => {
      const a = median(of("in-process").map(f));
      const b = median(of(bLayout).map(f));
      return [k, { inProcess: a, [bLayout]: b, ratioBtoA: a ? +(b / a).toFixed(2) : null }];
    }),
  );
}

async function main(): Promise<void> {
  const pairs = Number(process.argv[2] ?? 5);
  const crash = process.argv[3] ?? "yes";
  const withCrash = crash !== "no";
  const withTiming = crash !== "only";
  const bLayout = (process.argv[4] ?? "sandboxed") as Layout;
  if (bLayout !== "sandboxed" && bLayout !== "threads") throw new Error("b: sandboxed or threads");
  const sites: [string, string] = ["theatl", "chitter"];
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    cpus: os.cpus().length,
    loadAvgAtStart: os.loadavg(),
    pairs,
    bLayout,
  };
  const rounds: TimingRound[] = [];
  if (withTiming) {
    const site = await BenchSite.create("bench-workers", sites);
    try {
      for (let p = 0; p < pairs; p++) {
        const order: Layout[] = p % 2 === 0 ? ["in-process", bLayout] : [bLayout, "in-process"];
        for (const layout of order) {
          const r = await timingRound(site, layout, sites);
          rounds.push(r);
          process.stderr.write(
            `pair ${p + 1} ${layout}: first ${r.first.submitToDoneMs} ms, warm ${r.warm.submitToDoneMs} ms, pair ${r.pairWallMs} ms, load ${r.loadAvg1m.toFixed(1)}\n`,
          );
        }
      }
    } finally {
      await site.close();
    }
    results.medians = summarize(rounds, bLayout);
    results.rounds = rounds;
  }
  if (withCrash) {
    const cases: CrashCase[] = [];
    const faultCases: Array<[Layout, "throw" | "exit"]> = [
      ["in-process", "throw"],
      [bLayout, "throw"],
      [bLayout, "exit"],
      ["in-process", "exit"],
    ];
    // With b=threads the in-process cases are the same as in a sandboxed run: only the threads' run.
    for (const [layout, fault] of bLayout === "threads" ? faultCases.slice(1, 3) : faultCases) {
      const c = await crashCase(layout, fault);
      cases.push(c);
      process.stderr.write(
        `crash ${layout}/${fault}: faulty ${c.faulty.jobState}/${c.faulty.ledgerStatus}, victim ${c.victim.jobState}/${c.victim.ledgerStatus}, worker ${c.workerSurvived ? "survived" : "died"}\n`,
      );
    }
    results.crash = cases;
  }
  results.loadAvgAtEnd = os.loadavg();
  const outDir = path.join(projectRoot, "bench", "results");
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `workers-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(results, null, 2));
  process.stdout.write(
    JSON.stringify({ medians: results.medians, crash: results.crash, file }, null, 2) + "\n",
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
