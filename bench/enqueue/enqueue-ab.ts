// Benchmark (not a test): the service's enqueue route against the floor route (floor-server.ts), A/B
// interleaved on the same Redis, each in its own process, under one open-loop load generator.
// `npx tsc -p tsconfig.json && node dist/bench/enqueue/enqueue-ab.js [pairs=5] [seconds=5] [rates=seq,200,500]`
// Prints per-rate medians (over rounds) of p50/p95/p99 for both sides and their ratios, and writes
// bench/results/enqueue-<time>.json.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createDeployment, projectRoot, spawnService } from "../../test/workers/support/service-harness";
import { latencySummary, median, type LatencySummary } from "./latency";

interface Side {
  name: "stackyard" | "floor";
  url: string;
  headers: Record<string, string>;
}

/** `rate` requests per second for `seconds`, each sent at its due time whatever the earlier ones do. */
async function openLoop(side: Side, rate: number, seconds: number, round: number): Promise<LatencySummary> {
  const total = rate * seconds;
  const lat: number[] = [];
  let refused = 0;
  const start = performance.now() + 50;
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const due = start + (i * 1000) / rate;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      const t = performance.now();
      try {
        const status = await post(side, 2 + ((i + round) % 3));
        if (status !== 202 && status !== 200) refused++;
      } catch {
        refused++; // a connection the side could not take counts against it, with its time
      }
      lat.push(performance.now() - t);
    }),
  );
  const wall = (performance.now() - start) / 1000;
  return latencySummary(lat, refused, total / wall);
}

/** One request at a time: the route's own service time, whatever the machine's load does to a flood. */
async function closedLoop(side: Side, requests: number, round: number): Promise<LatencySummary> {
  const lat: number[] = [];
  let refused = 0;
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const t = performance.now();
    const status = await post(side, 2 + ((i + round) % 3));
    lat.push(performance.now() - t);
    if (status !== 202 && status !== 200) refused++;
  }
  return latencySummary(lat, refused, requests / ((performance.now() - start) / 1000));
}

async function post(side: Side, count: number): Promise<number> {
  const res = await fetch(side.url, {
    method: "POST",
    headers: { "content-type": "application/json", ...side.headers },
    body: JSON.stringify({ operation: "scale-sidekiq", params: { count } }),
  });
  await res.arrayBuffer();
  return res.status;
}

function startFloor(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(__dirname, "floor-server.js")], {
    env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      const line = buf.split("\n").find((l) => l.includes("floor listening"));
      if (line) resolve({ child, port: JSON.parse(line).port });
    });
    child.once("exit", (code) => reject(new Error(`floor server exited ${code}`)));
  });
}

async function main(): Promise<void> {
  const pairs = Number(process.argv[2] ?? 5);
  const seconds = Number(process.argv[3] ?? 5);
  // "seq": one request at a time (service time); a number: that many requests per second, open loop.
  const rates = (process.argv[4] ?? "seq,200,500").split(",");
  const d = await createDeployment("bench-enqueue", ["theatl"]);
  // The rate limit still runs (its Redis counter on every request); it is only set high enough not to trip.
  const svc = await spawnService(d, "api", "bench-api", { STACKYARD_RATE_LIMIT_REQUESTS: "1000000" });
  const floor = await startFloor({ ...process.env, REDIS_URL: d.env.REDIS_URL });
  const sides: Side[] = [
    {
      name: "stackyard",
      url: `http://127.0.0.1:${svc.port}/v1/sites/theatl/operations`,
      headers: { authorization: `Bearer ${d.adminToken}` },
    },
    { name: "floor", url: `http://127.0.0.1:${floor.port}/v1/sites/theatl/operations`, headers: {} },
  ];
  const results: Record<string, unknown> = { pairs, seconds, when: new Date().toISOString(), rates: {} };
  try {
    for (const side of sides) await openLoop(side, 50, 1, 0); // warm both: JIT, connections
    for (const rate of rates) {
      const rounds: Record<Side["name"], LatencySummary[]> = { stackyard: [], floor: [] };
      for (let p = 0; p < pairs; p++) {
        // ABBA: each side goes first in half the pairs, so a drift in the machine falls on both.
        const order = p % 2 === 0 ? sides : [...sides].reverse();
        for (const side of order)
          rounds[side.name].push(
            rate === "seq"
              ? await closedLoop(side, 200 * seconds, p)
              : await openLoop(side, Number(rate), seconds, p),
          );
      }
      const med = (name: Side["name"], k: keyof LatencySummary) => median(rounds[name].map((r) => r[k]));
      const summary = {
        stackyard: {
          p50: med("stackyard", "p50"),
          p95: med("stackyard", "p95"),
          p99: med("stackyard", "p99"),
        },
        floor: { p50: med("floor", "p50"), p95: med("floor", "p95"), p99: med("floor", "p99") },
        ratio: {
          p50: +(med("stackyard", "p50") / med("floor", "p50")).toFixed(2),
          p95: +(med("stackyard", "p95") / med("floor", "p95")).toFixed(2),
          p99: +(med("stackyard", "p99") / med("floor", "p99")).toFixed(2),
        },
        refused: {
          stackyard: rounds.stackyard.reduce((n, r) => n + r.refused, 0),
          floor: rounds.floor.reduce((n, r) => n + r.refused, 0),
        },
        achievedRate: { stackyard: med("stackyard", "achievedRate"), floor: med("floor", "achievedRate") },
        rounds,
      };
      (results.rates as Record<string, unknown>)[rate] = summary;
      process.stdout.write(
        `${rate === "seq" ? "one at a time" : `${rate} req/s`}: stackyard p50 ${summary.stackyard.p50} p95 ${summary.stackyard.p95} p99 ${summary.stackyard.p99} ms; ` +
          `floor p50 ${summary.floor.p50} p95 ${summary.floor.p95} p99 ${summary.floor.p99} ms; ` +
          `ratio p50 ${summary.ratio.p50}× p99 ${summary.ratio.p99}×; refused ${summary.refused.stackyard}/${summary.refused.floor}\n`,
      );
    }
    const outDir = path.join(projectRoot, "bench", "results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `enqueue-${Date.now()}.json`), JSON.stringify(results, null, 2));
  } finally {
    floor.child.kill("SIGTERM");
    await svc.stop();
    await d.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
