import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import IORedis from "ioredis";
import { readCalls } from "../../src/sandbox/call-log";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { ApiClient } from "./support/api-client";
import { deployBaseline, siteCloud, theatlPoolDroplets } from "./support/baseline";
import { allEvents, waitForEvent } from "./support/op-events";
import {
  createDeployment,
  FAST_STALLS,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const poolDroplets = (d: Deployment) => theatlPoolDroplets(siteCloud(d, "theatl"));

/**
 * BullMQ is at-least-once: a worker whose event loop is blocked past its job lock keeps running
 * while the stalled-job check gives the same job to another worker. Here the first worker is frozen
 * (SIGSTOP: nothing of it runs, as under a blocked loop) in the middle of its preview, a second
 * worker takes the job, and the first is then thawed: both hold the job at once.
 */
describe("one job run by two workers at once", function () {
  this.timeout(600_000);
  let d: Deployment;
  let api: ApiClient;
  let redis: IORedis;
  const procs: ServiceProcess[] = [];

  before(async () => {
    d = await createDeployment("double-run", ["theatl"], FAST_STALLS);
    await deployBaseline(d, "theatl");
    procs.push(await spawnService(d, "api", "api"));
    api = new ApiClient(`http://127.0.0.1:${procs[0]!.port}`, d.adminToken);
    redis = new IORedis(d.redis.url);
  });

  after(async () => {
    redis?.disconnect();
    for (const p of procs) {
      if (p.child.exitCode === null) process.kill(p.child.pid!, "SIGCONT");
      await p.stop().catch(() => undefined);
    }
    await d?.cleanup();
  });

  it("ends the operation once: the run that lost the stack stops before up, the other applies the change once", async () => {
    const first = await spawnService(d, "worker", "worker-first");
    procs.push(first);
    const before = (await api.get("/v1/sites/theatl")).body.deployed.configRevision ?? 0;
    siteCloud(d, "theatl").setFaults({ hold: { method: "diff", type: TYPES.droplet } });
    const since = Date.now();
    const sub = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 4 },
    });
    assert.equal(sub.status, 202, JSON.stringify(sub.body));
    const id = sub.body.id as string;
    const held = () =>
      readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some(
        (c) => c.phase === "held" && Date.parse(c.ts) >= since,
      );
    for (const until = Date.now() + 300_000; !held();) {
      const now = (await api.get(`/v1/operations/${id}`)).body;
      if (Date.now() > until || ["succeeded", "failed", "cancelled", "expired"].includes(now.status)) {
        const log = fs.readFileSync(first.logFile, "utf8").split("\n").slice(-15).join("\n");
        assert.fail(
          `the first run's preview never reached the held diff: ${now.status} ${now.reason ?? ""}\n${log}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const firstClaim = await waitForEvent(
      d.redis.url,
      id,
      (e) => e.type === "phase" && e.data.phase === "preview",
    );
    const holder = JSON.parse((await redis.get("stackyard:stacklock:theatl")) ?? "{}") as {
      pid?: number;
      fence?: number;
    };
    assert.equal(holder.pid, first.child.pid, "the first worker holds the stack");

    // Freeze the first worker's own process (its engine keeps waiting in the held diff).
    process.kill(first.child.pid!, "SIGSTOP");
    const second = await spawnService(d, "worker", "worker-second");
    procs.push(second);
    // BullMQ hands the job to the second worker once the first one's job lock lapses.
    const secondClaim = await waitForEvent(
      d.redis.url,
      id,
      (e) => e.type === "phase" && e.data.phase === "recover" && e.data.fence !== firstClaim.data.fence,
      300_000,
    );
    assert.ok(
      Number(secondClaim.data.fence) > Number(firstClaim.data.fence),
      "the second run's fence is larger",
    );
    // Both runs now hold the job: thaw the first and let the held diff go on.
    siteCloud(d, "theatl").releaseHold();
    process.kill(first.child.pid!, "SIGCONT");

    const op = await api.waitFor(id, 300_000);
    assert.equal(op.status, "succeeded", op.reason);
    const events = await allEvents(d.redis.url, id);
    const terminal = events.filter(
      (e) =>
        e.type === "status" &&
        ["succeeded", "failed", "cancelled", "expired"].includes(String(e.data.status)),
    );
    assert.equal(terminal.length, 1, `one terminal status event: ${JSON.stringify(terminal)}`);
    assert.equal(op.revision.to, before + 1, "the revision moved once");
    assert.equal((await api.get("/v1/sites/theatl")).body.deployed.configRevision, before + 1);
    assert.equal(poolDroplets(d), 4, "each droplet once");
    // Only the second run's fence reached the up phase.
    const ups = events.filter((e) => e.type === "phase" && e.data.phase === "up");
    assert.deepEqual(
      ups.map((e) => e.data.fence),
      [secondClaim.data.fence],
      "only the run holding the stack ran up",
    );
    // The first run says why it stopped (the path a double finish would have taken).
    const said = () => fs.readFileSync(first.logFile, "utf8").includes("no longer owns the operation");
    for (const until = Date.now() + 120_000; !said();) {
      if (Date.now() > until) assert.fail("the first run never reported that it stopped");
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await redis.get("stackyard:stacklock:theatl"), null, "no stack lock left");
  });
});
