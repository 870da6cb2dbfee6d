import * as assert from "node:assert/strict";
import IORedis from "ioredis";
import { connectionsPerWorker } from "../../bench/queue-layout/harness";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { readCalls, type CallEntry } from "../../src/sandbox/call-log";
import { AMBIENT_CREDENTIALS, assertOwnCredentialsOnly } from "../support/site-credentials";
import { ApiClient } from "./support/api-client";
import { deployBaseline } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"] as const;

/** Four operations per stack, in the order they are submitted. */
const PLAN: Record<(typeof SITES)[number], Array<{ operation: string; params: Record<string, unknown> }>> = {
  theatl: [3, 4, 3, 2].map((count) => ({ operation: "scale-sidekiq", params: { count } })),
  vulpine: [2, 4, 5, 3].map((count) => ({ operation: "scale-sidekiq", params: { count } })),
  chitter: [3, 5, 4, 2].map((count) => ({ operation: "scale-sidekiq", params: { count } })),
  datafruits: [2, 4, 3, 1].map((count) => ({ operation: "scale-sidekiq", params: { count } })),
  insync: [
    { operation: "add-read-replica", params: { name: "db-slave03" } },
    { operation: "remove-read-replica", params: { name: "db-slave03" } },
    { operation: "add-read-replica", params: { name: "db-slave04" } },
    { operation: "remove-read-replica", params: { name: "db-slave04" } },
  ],
};

/**
 * Mutating provider calls of one stack, grouped per plugin process: each engine run starts its own
 * plugin processes, so a (package, pid) group spans (part of) one run.
 */
function runWindows(calls: CallEntry[], stack: string): Array<{ key: string; from: number; to: number }> {
  const groups = new Map<string, { from: number; to: number }>();
  for (const c of calls) {
    if (c.stack !== stack || !["create", "update", "delete"].includes(c.method)) continue;
    const key = `${c.package}:${c.pid}`;
    const t = Date.parse(c.ts);
    const g = groups.get(key) ?? { from: t, to: t };
    groups.set(key, { from: Math.min(g.from, t), to: Math.max(g.to, t) });
  }
  return [...groups.entries()].map(([key, g]) => ({ key, ...g }));
}

describe("two worker processes, 20 concurrent operations over 5 stacks", function () {
  this.timeout(1_800_000);
  let d: Deployment;
  const procs: ServiceProcess[] = [];

  before(async () => {
    d = await createDeployment("concurrency", SITES);
    for (const s of SITES) await deployBaseline(d, s);
    procs.push(await spawnService(d, "api", "api"));
    // The workers' own environment holds cloud credentials: no site's provider may see them.
    procs.push(await spawnService(d, "worker", "worker-a", AMBIENT_CREDENTIALS));
    procs.push(await spawnService(d, "worker", "worker-b", AMBIENT_CREDENTIALS));
  });

  after(async () => {
    for (const p of procs) await p.stop();
    await d?.cleanup();
  });

  it("finishes every operation, one engine update per stack at a time, in submission order per stack", async () => {
    const api = new ApiClient(`http://127.0.0.1:${procs[0]!.port}`, d.adminToken);
    const since = Date.now();
    // Stacks are submitted in parallel; within a stack, in order (FIFO is what we check).
    const ids: Record<string, string[]> = {};
    await Promise.all(
      SITES.map(async (site) => {
        ids[site] = [];
        for (const op of PLAN[site]) {
          const r = await api.post(`/v1/sites/${site}/operations`, op);
          assert.equal(r.status, 202, JSON.stringify(r.body));
          ids[site]!.push(r.body.id);
        }
      }),
    );
    const finals = await Promise.all(SITES.flatMap((s) => ids[s]!.map((id) => api.waitFor(id, 1_500_000))));
    for (const f of finals) assert.equal(f.status, "succeeded", `${f.site} ${f.kind}: ${f.reason}`);

    const files = new StackFileStore(d.workspace);
    for (const site of SITES) {
      const recs = ids[site]!.map((id) => finals.find((f) => f.id === id)!);
      // Scale requests still queued behind one another coalesce (issue 7): a coalesced request rides
      // on an earlier request of the same stack and runs no engine of its own.
      for (const [i, r] of recs.entries()) {
        if (!r.coalescedInto) continue;
        const carrier = ids[site]!.indexOf(r.coalescedInto);
        assert.ok(
          carrier >= 0 && carrier < i,
          `${site}: op ${i} rode on ${r.coalescedInto}, not an earlier request of this stack`,
        );
      }
      const ran = recs.filter((r) => !r.coalescedInto);
      // FIFO: each engine run started after the previous one finished, in submission order.
      for (let i = 1; i < ran.length; i++) {
        assert.ok(
          Date.parse(ran[i]!.startedAt) >= Date.parse(ran[i - 1]!.finishedAt),
          `${site}: run ${i} started before run ${i - 1} finished`,
        );
      }
      assert.deepEqual(
        ran.map((r) => r.revision.to),
        ran.map((_, i) => i + 1),
        `${site}: one revision per engine run, in order`,
      );
      // Order kept: the stack ends where the last request said.
      const last = PLAN[site][PLAN[site].length - 1]!;
      const spec = files.load(site).spec as {
        sidekiq?: { pools: Record<string, { count: number }> };
        mysql?: { replicas: string[] };
      };
      if (last.operation === "scale-sidekiq")
        assert.equal(spec.sidekiq!.pools.main!.count, last.params.count, `${site}: final sidekiq count`);
      else assert.deepEqual(spec.mysql!.replicas, ["db-slave02"], `${site}: replicas after the last removal`);
      // The simulated cloud's own log: no two plugin processes of one package mutated this stack at overlapping times.
      const windows = runWindows(
        readCalls(sandboxDirFor(d.sandboxDir, site)).filter((c) => Date.parse(c.ts) >= since),
        site,
      );
      const byPkg = new Map<string, typeof windows>();
      for (const w of windows)
        byPkg.set(w.key.split(":")[0]!, [...(byPkg.get(w.key.split(":")[0]!) ?? []), w]);
      for (const [pkg, ws] of byPkg) {
        ws.sort((a, b) => a.from - b.from);
        for (let i = 1; i < ws.length; i++)
          assert.ok(
            ws[i]!.from > ws[i - 1]!.to,
            `${site}/${pkg}: two engine runs overlapped (${ws[i - 1]!.key} and ${ws[i]!.key})`,
          );
      }
    }
    // Both worker processes took part.
    const pids = new Set(finals.flatMap((f) => (f.workerPid ? [f.workerPid] : [])));
    assert.ok(pids.size === 0 || pids.size === 2, `workers used: ${[...pids].join(",")}`);
  });

  it("holds a fixed number of Redis connections per worker process, not a few per stack", async () => {
    const admin = new IORedis(d.redis.url, { maxRetriesPerRequest: 1 });
    try {
      const workers = procs.slice(1).map((p, i) => ({ tag: `worker-${i}`, pid: p.child.pid! }));
      const conns = await connectionsPerWorker(admin, workers as never);
      for (const c of conns) {
        process.stdout.write(`      ${c.tag}: ${c.total} Redis connections ${JSON.stringify(c.byName)}\n`);
        // Before the shared turns: 4 per stack (a Queue, a Worker and its blocking connection, a
        // QueueEvents), 20 for these 5 stacks before anything else the process holds.
        assert.ok(c.total >= 2 && c.total <= 10, `${c.tag}: ${c.total} ${JSON.stringify(c.byName)}`);
      }
    } finally {
      admin.disconnect();
    }
  });

  it("ran each of the five sites only with its own account's credentials, never another site's or the workers' environment's", () => {
    let checked = 0;
    for (const site of SITES) checked += assertOwnCredentialsOnly(sandboxDirFor(d.sandboxDir, site), site);
    assert.ok(checked > 100, `${checked} resource calls checked`);
  });
});
