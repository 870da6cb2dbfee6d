import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import IORedis from "ioredis";
import { engineLockFiles } from "../../src/engine/recovery";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { readCalls } from "../../src/sandbox/call-log";
import type { FaultPlan } from "../../src/sandbox/fault-plan";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { deployBaseline, engineSettings, openSession, siteCloud } from "./support/baseline";
import {
  createDeployment,
  FAST_STALLS,
  descendants,
  isRunning,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

/** Where the kill lands: the provider call the fault plan holds, so the worker dies at that exact step. */
type KillPoint = { name: string; count: number; duringUp: boolean; hold: NonNullable<FaultPlan["hold"]> };

const heldSince = (d: Deployment, since: number) =>
  readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some(
    (c) => c.stack === "theatl" && c.phase === "held" && Date.parse(c.ts) >= since,
  );

/** kill -9 of a worker's whole process group (worker, pulumi CLI, provider plugins) at several points. */
describe("a worker killed mid-operation: detected, recovered, completed exactly once", function () {
  this.timeout(1_800_000);
  let d: Deployment;
  let api: ApiClient;
  let redis: IORedis;
  const procs: ServiceProcess[] = [];
  let workers: ServiceProcess[] = [];
  let n = 0;

  before(async () => {
    d = await createDeployment("crash", ["theatl"], FAST_STALLS);
    await deployBaseline(d, "theatl");
    procs.push(await spawnService(d, "api", "api"));
    workers = [
      await spawnService(d, "worker", `worker-${n++}`),
      await spawnService(d, "worker", `worker-${n++}`),
    ];
    api = new ApiClient(`http://127.0.0.1:${procs[0]!.port}`, d.adminToken);
    redis = new IORedis(d.redis.url);
  });

  after(async () => {
    redis?.disconnect();
    for (const p of [...procs, ...workers]) await p.stop().catch(() => undefined);
    await d?.cleanup();
  });

  const points: KillPoint[] = [
    // The preview asks the provider to diff each droplet: the kill lands there, before any change.
    {
      name: "before up (in the preview, at its first droplet diff)",
      count: 5,
      duringUp: false,
      hold: { method: "diff", type: TYPES.droplet },
    },
    // Deletes run last, after the program has registered its outputs (the new revision included).
    {
      name: "right after up's first delete started",
      count: 2,
      duringUp: true,
      hold: { method: "delete", type: TYPES.droplet },
    },
    {
      name: "while up's creates are in flight",
      count: 4,
      duringUp: true,
      hold: { method: "create", type: TYPES.droplet },
    },
  ];

  for (const p of points) {
    it(`scale to ${p.count}, worker killed ${p.name}: ends once with a reason, stack unlocked, cloud matches`, async () => {
      const before = (await api.get("/v1/sites/theatl")).body.deployed.configRevision ?? 0;
      // Every provider call takes a while, so the other calls are in flight when the kill lands.
      siteCloud(d, "theatl").setFaults({ latencyMs: 2500, hold: p.hold });
      const since = Date.now();
      const sub = await api.post("/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count: p.count },
      });
      assert.equal(sub.status, 202);
      const deadline = Date.now() + 300_000;
      while (!heldSince(d, since)) {
        if (Date.now() > deadline) assert.fail("the kill point was never reached");
        await new Promise((r) => setTimeout(r, 50));
      }
      const holder = JSON.parse((await redis.get("stackyard:stacklock:theatl")) ?? "{}") as { pid?: number };
      const victim = workers.find((w) => w.child.pid === holder.pid);
      assert.ok(victim, `the stack lock names a worker we started (pid ${holder.pid})`);
      // Its pulumi CLI, provider plugins and the language host running the policy pack.
      const tree = descendants(victim.child.pid!);
      assert.ok(tree.length >= 2, "the worker was running an engine");
      await victim.killGroup();
      siteCloud(d, "theatl").releaseHold(); // the held call died with its plugin; later calls are not held
      workers = [...workers.filter((w) => w !== victim), await spawnService(d, "worker", `worker-${n++}`)];

      const op = await api.waitFor(sub.body.id, 600_000);
      // Nothing the dead worker started is left running: plugins exit once their engine is gone.
      assert.deepEqual(
        tree
          .filter(isRunning)
          .map((pid) => `${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ")}`),
        [],
      );
      // The sandbox can say whether an interrupted create exists: recovery clears it or adopts it,
      // so every kill point ends in success (a live provider cannot say, and refuses instead).
      assert.equal(op.status, "succeeded", `${op.reason}; recovery ${JSON.stringify(op.recovery)}`);
      console.log(
        `      (recovery: ${op.recovery.map((r: { step: string }) => r.step).join(", ") || "none"})`,
      );
      assert.ok(op.attempts >= 2, "another worker picked the job up after the stall");
      // Killed inside `up`, the dead CLI leaves its lock file and pending operations: recovery clears them and says so.
      if (p.duringUp)
        assert.ok(op.recovery.length >= 1, `recovery steps are recorded: ${JSON.stringify(op.recovery)}`);

      // Exactly once: one terminal status event, and the revision moved by one (or not at all if it failed).
      const sse = String((await api.get(`/v1/operations/${op.id}/events`)).body);
      assert.equal((sse.match(/"status":"(succeeded|failed)"/g) ?? []).length, 1);
      const site = (await api.get("/v1/sites/theatl")).body;
      assert.equal(site.deployed.configRevision ?? 0, op.status === "succeeded" ? before + 1 : before);

      // No stack stays locked; no pending operations remain; the cloud has each sidekiq droplet once.
      assert.deepEqual(engineLockFiles(engineSettings(d, "theatl").stateDir, "stackyard", "theatl"), []);
      const session = await openSession(d, "theatl");
      const pending = await session.pendingOperations();
      if (op.status === "failed" && /^RECOVERY_REFUSED/.test(op.reason)) {
        // A create the dead run made in the cloud but never recorded: refused (never auto-adopted or
        // auto-deleted), each URN and cloud id named for the operator.
        for (const p of pending) assert.ok(op.reason.includes(p.resource.urn), op.reason);
        assert.match(op.reason, /exists in the cloud as \d+/);
        assert.ok(pending.every((p) => p.type === "creating"));
      } else {
        assert.deepEqual(
          pending.map((o) => `${o.type} ${o.resource.urn}`),
          [],
          `op ${op.status} (${op.reason}); recovery ${JSON.stringify(op.recovery)}`,
        );
      }
      const names = siteCloud(d, "theatl")
        .list(TYPES.droplet, "theatl")
        .map((r) => r.urn.split("::").pop()!)
        .filter((x) => /^theatl-sidekiq-main-\d+$/.test(x));
      assert.equal(
        new Set(names).size,
        names.length,
        `no droplet was created twice: ${JSON.stringify(names)}`,
      );
      if (op.status === "succeeded") assert.equal(names.length, p.count);
    });
  }
});
