import * as assert from "node:assert/strict";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { siteCloud } from "../workers/support/baseline";
import { operatorService, type OperatorService } from "../chatops/support/operator-service";

const poolDroplets = (cloud: SandboxCloud) =>
  cloud.list(TYPES.droplet, "theatl").filter((r) => /theatl-sidekiq-main-\d+$/.test(r.urn)).length;

describe("coalescing a flood of scale requests for one stack", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("turns 100 scale-sidekiq requests arriving while an engine run is in progress into at most 3 engine runs, ending at the last request's count", async () => {
    const api = s.api();
    // Let earlier tests' operations finish, so the flood starts on an idle stack.
    for (const o of (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations)
      await api.waitFor(o.id);
    // The first request's run writes its count to the stack file before the flood is planned on it:
    // 3, so that no later count raises the cost past theATL's approval threshold. The flood asks for
    // 1–3 and the last request alone for 4, a count no earlier request named. Counts stay low because
    // earlier operator-view files leave a fenced replica (pg-c), which still bills toward the ceiling.
    const counts = Array.from({ length: 100 }, (_, i) => (i === 99 ? 4 : i === 0 ? 3 : (i % 3) + 1));
    const t0 = performance.now();
    const accepted: Array<{ id: string }> = [];
    const submit = async (count: number) => {
      const r = await api.post("/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      accepted.push({ id: r.body.id });
    };
    // The first request's engine run waits in the provider (its first droplet diff) until the flood
    // is in, however slowly a busy machine sends it; a time limit on the flood would be a guess.
    const cloud = siteCloud(s.d, "theatl");
    cloud.setFaults({ hold: { method: "diff", type: TYPES.droplet } });
    let submitMs: number;
    try {
      const since = Date.now();
      await submit(counts[0]!);
      while (!cloud.calls().some((c) => c.phase === "held" && Date.parse(c.ts) >= since))
        await new Promise((r) => setTimeout(r, 50));
      // 98 more in batches of 11 concurrent requests, then the last one alone: it is unambiguously the latest.
      for (let i = 1; i < 99; i += 11) await Promise.all(counts.slice(i, Math.min(i + 11, 99)).map(submit));
      await submit(counts[99]!);
      submitMs = performance.now() - t0;
    } finally {
      // A refused request must not leave the engine run held: the service could never stop.
      cloud.releaseHold();
    }

    const finals = [];
    for (const a of accepted) finals.push(await api.waitFor(a.id));
    const carriers = finals.filter((f) => !f.coalescedInto);
    const riders = finals.filter((f) => f.coalescedInto);
    console.log(
      `      (100 requests in ${submitMs.toFixed(0)} ms → ${carriers.length} engine run(s); ${riders.length} coalesced)`,
    );
    assert.ok(carriers.length <= 3, `${carriers.length} engine runs`);
    assert.equal(carriers.length + riders.length, 100, "every request has its own history entry");
    assert.ok(
      finals.every((f) => f.status === "succeeded"),
      JSON.stringify(finals.filter((f) => f.status !== "succeeded").slice(0, 2)),
    );
    // Each carrier ran the engine once (preview + up); riders never started.
    assert.ok(carriers.every((c) => c.startedAt && c.timings.upMs > 0 && c.attempts === 1));
    assert.ok(
      riders.every(
        (r) =>
          !r.startedAt &&
          carriers.some((c) => c.id === r.coalescedInto) &&
          r.reason.startsWith(`carried by ${r.coalescedInto}`),
      ),
    );
    // The last carrier ran with the last request's value, whatever it was asked for first.
    const last = carriers.sort((a, b) => a.startedAt.localeCompare(b.startedAt)).at(-1);
    assert.equal(last.params.count, 4);

    const cfg = new StackFileStore(s.d.workspace).load("theatl");
    assert.equal((cfg.spec as any).sidekiq.pools.main.count, 4, "stack file");
    assert.equal(poolDroplets(siteCloud(s.d, "theatl")), 4, "simulated cloud");
    cloud.clearFaults();
  });
});
