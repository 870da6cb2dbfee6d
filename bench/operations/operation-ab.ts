// Benchmark (not a test): what the service adds to an operation, measured side by side.
// `npx tsc -p tsconfig.json && node dist/bench/operations/operation-ab.js [rounds=5]`
// One theATL sidekiq scale per variant per round, the variants' order rotating every round so
// load and warm caches fall on each alike, all on the same sandbox stack and backend:
//   service  submit → succeeded through the running service (queue, recovery preflight, preview
//            with the policy pack, checks, up with the pack, verify, record, commit): the record's
//            own totalMs, so the client's polling adds nothing;
//   raw      `pulumi up --skip-preview` on Pulumi.yaml, no policy pack;
//   by-hand  what a careful operator runs: `pulumi preview --policy-pack policy-pack`, then
//            `pulumi up --skip-preview --policy-pack policy-pack`.
// Prints the medians and the ratios service/raw and service/by-hand, and writes
// bench/results/operations-ab-<time>.json.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { engineEnv } from "../../src/engine/engine-env";
import { engineBinDir } from "../../src/infra/paths";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { ApiClient } from "../../test/workers/support/api-client";
import { deployBaseline, engineSettings } from "../../test/workers/support/baseline";
import {
  createDeployment,
  projectRoot,
  spawnService,
  type Deployment,
} from "../../test/workers/support/service-harness";
import { median } from "../enqueue/latency";

const run = promisify(execFile);
type Variant = "service" | "raw" | "by-hand";
const VARIANTS: readonly Variant[] = ["service", "raw", "by-hand"];
const POLICY_PACK = path.join(projectRoot, "policy-pack");

/** Writes the next sidekiq count into theATL's stack file, as an operator's editor would. */
function editCount(d: Deployment, count: number): void {
  const store = new StackFileStore(d.workspace);
  const cfg = store.load("theatl");
  if (cfg.site !== "theatl") throw new Error("unexpected site");
  cfg.spec.sidekiq.pools.main!.count = count;
  store.writeSpec("theatl", cfg.spec, cfg.configRevision + 1);
}

async function cli(d: Deployment, args: string[]): Promise<void> {
  const env = { ...process.env, ...engineEnv(engineSettings(d, "theatl")) };
  await run(path.join(engineBinDir(), "pulumi"), [...args, "--non-interactive", "--stack", "theatl"], {
    cwd: d.workspace,
    env,
    maxBuffer: 64 << 20,
  });
}

/** The service's own phase timings of each measured run (the record's `timings`). */
const phases: Record<string, number[]> = {};

async function once(variant: Variant, d: Deployment, api: ApiClient, count: number): Promise<number> {
  if (variant === "service") {
    const op = await api.run("theatl", "scale-sidekiq", { count });
    if (op.status !== "succeeded") throw new Error(`service run ${op.status}: ${op.reason}`);
    for (const [k, v] of Object.entries(op.timings as Record<string, number>)) (phases[k] ??= []).push(v);
    return op.timings.totalMs;
  }
  editCount(d, count);
  const t = performance.now();
  if (variant === "raw") {
    await cli(d, ["up", "--yes", "--skip-preview"]);
  } else {
    await cli(d, ["preview", "--policy-pack", POLICY_PACK]);
    await cli(d, ["up", "--yes", "--skip-preview", "--policy-pack", POLICY_PACK]);
  }
  return performance.now() - t;
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 5);
  const d = await createDeployment("opab", ["theatl"]);
  const samples: Record<Variant, number[]> = { service: [], raw: [], "by-hand": [] };
  const load: number[] = [];
  try {
    await deployBaseline(d, "theatl");
    const svc = await spawnService(d, "all", "opab-service");
    try {
      const api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
      let count = 2;
      // One warm-up of each, unmeasured: the first run of each path pays one-off costs.
      for (const v of VARIANTS) await once(v, d, api, (count = count === 2 ? 3 : 2));
      for (const k of Object.keys(phases)) delete phases[k];
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < VARIANTS.length; i++) {
          const v = VARIANTS[(r + i) % VARIANTS.length]!;
          load.push(os.loadavg()[0]!);
          const ms = await once(v, d, api, (count = count === 2 ? 3 : 2));
          samples[v].push(Math.round(ms));
          process.stderr.write(`round ${r + 1} ${v}: ${Math.round(ms)} ms\n`);
        }
      }
    } finally {
      await svc.stop();
    }
  } finally {
    await d.cleanup();
  }
  const m = (v: Variant) => median(samples[v]);
  const results = {
    when: new Date().toISOString(),
    rounds,
    medianMs: { service: m("service"), raw: m("raw"), byHand: m("by-hand") },
    ratio: {
      serviceToRaw: +(m("service") / m("raw")).toFixed(2),
      serviceToByHand: +(m("service") / m("by-hand")).toFixed(2),
    },
    servicePhaseMedianMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)])),
    loadAverage: { min: Math.min(...load), max: Math.max(...load) },
    samples,
  };
  const outDir = path.join(projectRoot, "bench", "results");
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `operations-ab-${Date.now()}.json`), JSON.stringify(results, null, 2));
  process.stdout.write(JSON.stringify(results, null, 2) + "\n");
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
