// Benchmark (not a test): `npx tsc -p tsconfig.json && node dist/bench/operations-bench.js [rounds]`.
// 1. End-to-end time of a theATL sidekiq scale through the service (HTTP → queue → worker → engine)
//    vs a raw `pulumi up` (the CLI on Pulumi.yaml, laptop path) of the same change on the same sandbox stack.
// 2. API enqueue latency at 200 requests/s (API process only, so jobs just queue).
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { engineEnv } from "../src/engine/engine-env";
import { engineBinDir } from "../src/infra/paths";
import { StackFileStore } from "../src/operations/stack-file-store";
import { ApiClient } from "../test/workers/support/api-client";
import { deployBaseline, engineSettings } from "../test/workers/support/baseline";
import { createDeployment, projectRoot, spawnService } from "../test/workers/support/service-harness";

const run = promisify(execFile);
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const median = (xs: number[]) => pct(xs, 50);

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 3);
  const d = await createDeployment("bench", ["theatl"]);
  const results: Record<string, unknown> = { rounds, when: new Date().toISOString() };
  try {
    await deployBaseline(d, "theatl");
    const counts = Array.from({ length: rounds }, (_, i) => (i % 2 === 0 ? 3 : 2));

    // 1a. Through the service.
    const svc = await spawnService(d, "all", "bench-service");
    const api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    const serviceMs: number[] = [];
    const upMs: number[] = [];
    for (const count of counts) {
      const t = Date.now();
      const op = await api.run("theatl", "scale-sidekiq", { count });
      if (op.status !== "succeeded") throw new Error(`service run failed: ${op.reason}`);
      serviceMs.push(Date.now() - t);
      upMs.push(op.timings.upMs);
    }
    await svc.stop();

    // 1b. Raw CLI, same change, same stack and backend.
    const store = new StackFileStore(d.workspace);
    const env = { ...process.env, ...engineEnv(engineSettings(d, "theatl")) };
    const cli = path.join(engineBinDir(), "pulumi");
    const cliMs: number[] = [];
    for (const count of counts) {
      const cfg = store.load("theatl");
      if (cfg.site !== "theatl") throw new Error("unexpected site");
      cfg.spec.sidekiq.pools.main!.count = count;
      store.writeSpec("theatl", cfg.spec, cfg.configRevision + 1);
      const t = Date.now();
      await run(cli, ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", "theatl"], {
        cwd: d.workspace,
        env,
        maxBuffer: 64 << 20,
      });
      cliMs.push(Date.now() - t);
    }
    results.scale = {
      serviceEndToEndMsMedian: median(serviceMs),
      serviceEngineUpMsMedian: median(upMs),
      rawCliUpMsMedian: median(cliMs),
      ratioServiceToRawCli: +(median(serviceMs) / median(cliMs)).toFixed(2),
      serviceMs,
      cliMs,
      note: "service = submit → succeeded (queue, recovery preflight, preview, checks, up, commit); raw = `pulumi up --skip-preview`",
    };

    // 2. Enqueue latency at 200 req/s for 5 s (API only: nothing runs the jobs).
    const apiOnly = await spawnService(d, "api", "bench-api");
    const client = new ApiClient(`http://127.0.0.1:${apiOnly.port}`, d.adminToken);
    const rate = 200;
    const total = rate * 5;
    const lat: number[] = [];
    let errors = 0;
    const start = Date.now();
    await Promise.all(
      Array.from({ length: total }, async (_, i) => {
        const due = start + (i * 1000) / rate;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
        const t = performance.now();
        const r = await client.post("/v1/sites/theatl/operations", {
          operation: "scale-sidekiq",
          params: { count: 2 + (i % 3) },
        });
        lat.push(performance.now() - t);
        if (r.status !== 202) errors++;
      }),
    );
    const wall = (Date.now() - start) / 1000;
    await apiOnly.stop();
    results.enqueue = {
      targetRate: rate,
      achievedRate: +(total / wall).toFixed(1),
      requests: total,
      errors,
      p50ms: +pct(lat, 50).toFixed(2),
      p95ms: +pct(lat, 95).toFixed(2),
      p99ms: +pct(lat, 99).toFixed(2),
      ratioEnqueueP50ToRawCliUp: +(pct(lat, 50) / median(cliMs)).toFixed(5),
    };
    const outDir = path.join(projectRoot, "bench", "results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `operations-${Date.now()}.json`), JSON.stringify(results, null, 2));
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  } finally {
    await d.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
