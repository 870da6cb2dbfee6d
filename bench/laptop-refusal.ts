// Benchmark (not a test): `npx tsc -p tsconfig.json && node dist/bench/laptop-refusal.js [pairs]`.
// A laptop `pulumi preview` (Pulumi.yaml + stacks/, the real CLI and language host) refused by the
// revision guard (stale stack file) against a passing preview of the same stack, interleaved A/B so
// machine load falls on both alike. Reports medians (and min/max) of each and of refused - passing;
// writes bench/results/laptop-refusal-<ms>.json.
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../src/infra/paths";
import { laptopCheckout } from "../test/support/laptop-checkout";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const stats = (xs: number[]) => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  runs: xs,
});

async function main(): Promise<void> {
  const pairs = Math.max(5, Number(process.argv[2] ?? 5));
  const laptop = await laptopCheckout("bench-laptop-refusal");
  try {
    const init = laptop.initSite("vulpine");
    if (init.code !== 0) throw new Error(`stack init failed:\n${init.out}`);
    laptop.setStackValue("vulpine", ["stackyard:configRevision"], 2);
    const up = laptop.pulumi("up", "--yes", "-s", "vulpine");
    if (up.code !== 0) throw new Error(`first up failed:\n${up.out}`);

    const timed = (revision: number) => {
      laptop.setStackValue("vulpine", ["stackyard:configRevision"], revision);
      const t0 = process.hrtime.bigint();
      const r = laptop.pulumi("preview", "-s", "vulpine");
      return { ms: Number(process.hrtime.bigint() - t0) / 1e6, ...r };
    };
    // One of each first, unmeasured: plugin and module caches warm for both alike.
    timed(2);
    timed(1);
    const passing: number[] = [];
    const refused: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which goes first, so neither always follows the other.
      const order = i % 2 === 0 ? [2, 1] : [1, 2];
      for (const revision of order) {
        const r = timed(revision);
        if (revision === 2) {
          if (r.code !== 0) throw new Error(`the passing preview failed:\n${r.out}`);
          passing.push(Math.round(r.ms));
        } else {
          if (r.code === 0 || !/revision 2 is deployed/.test(r.out))
            throw new Error(`the stale preview was not refused:\n${r.out}`);
          refused.push(Math.round(r.ms));
        }
      }
    }
    const results = {
      when: new Date().toISOString(),
      pairs,
      loadavg: (await import("node:os")).loadavg(),
      passingMs: stats(passing),
      refusedMs: stats(refused),
      refusedMinusPassingMs: stats(refused.map((r, i) => r - passing[i]!)),
    };
    const outDir = path.join(projectRoot, "bench", "results");
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(
      path.join(outDir, `laptop-refusal-${Date.now()}.json`),
      JSON.stringify(results, null, 2),
    );
    process.stdout.write(JSON.stringify(results, null, 2) + "\n");
  } finally {
    laptop.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
