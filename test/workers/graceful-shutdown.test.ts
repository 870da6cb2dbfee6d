import * as assert from "node:assert/strict";
import { readCalls } from "../../src/sandbox/call-log";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { ApiClient } from "./support/api-client";
import { dbRoles, deployBaseline, siteCloud, theatlPoolDroplets } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const poolDroplets = (d: Deployment) => theatlPoolDroplets(siteCloud(d, "theatl"));

/** SIGTERM to a worker in the middle of an engine update: it finishes the update, or hands the job back after its grace. */
describe("graceful shutdown of a worker during an update", function () {
  this.timeout(600_000);
  let d: Deployment;
  let apiProc: ServiceProcess;
  let api: ApiClient;
  const extra: ServiceProcess[] = [];

  /** Submits a scale and resolves once the engine's update reached the provider. */
  async function scaleUntilUpdating(count: number): Promise<string> {
    const since = Date.now();
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const creating = () =>
      readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some(
        (c) => ["create", "delete"].includes(c.method) && Date.parse(c.ts) >= since,
      );
    for (let i = 0; i < 600 && !creating(); i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(creating(), "the update reached the provider");
    return r.body.id;
  }

  before(async () => {
    d = await createDeployment("shutdown", ["theatl"]);
    await deployBaseline(d, "theatl");
    apiProc = await spawnService(d, "api", "api");
    api = new ApiClient(`http://127.0.0.1:${apiProc.port}`, d.adminToken);
    siteCloud(d, "theatl").setFaults({ latencyMs: 3000 });
  });

  after(async () => {
    for (const p of extra) await p.stop();
    await apiProc?.stop();
    await d?.cleanup();
  });

  it("finishes the running update before it exits when the grace allows", async () => {
    const worker = await spawnService(d, "worker", "worker-finish");
    const id = await scaleUntilUpdating(4);
    const stopped = worker.stop();
    const final = await api.waitFor(id, 300_000);
    assert.equal(final.status, "succeeded", final.reason);
    assert.equal(await worker.exited, 0);
    await stopped;
    assert.equal(poolDroplets(d), 4);
  });

  it("hands the job back when the grace runs out, and another worker completes it once", async () => {
    const worker = await spawnService(d, "worker", "worker-short-grace", {
      STACKYARD_SHUTDOWN_GRACE_MS: "500",
    });
    const id = await scaleUntilUpdating(2);
    await worker.stop();
    const meanwhile = await api.get(`/v1/operations/${id}`);
    assert.ok(
      ["queued", "running"].includes(meanwhile.body.status),
      `not ended by the shutdown: ${meanwhile.body.status}`,
    );

    const next = await spawnService(d, "worker", "worker-next");
    extra.push(next);
    const final = await api.waitFor(id, 300_000);
    assert.equal(final.status, "succeeded", final.reason);
    assert.equal(final.revision.to, 2, "one revision for the operation, though two workers ran it");
    assert.equal(poolDroplets(d), 2);
  });

  it("a shutdown while the hosts are being verified hands the operation back, and the next worker verifies it", async () => {
    // Only this test's workers: one left from the test above would take the handed-back job at once.
    for (const p of extra.splice(0)) await p.stop();
    const cloud = siteCloud(d, "theatl");
    cloud.setFaults({});
    const pgB = cloud.byName(TYPES.droplet, "pg-b", "theatl")!;
    // pg-b's role agent does not act yet: the verify phase keeps watching.
    cloud.setRoleAgent(TYPES.droplet, pgB.id, "stuck");
    const env = { STACKYARD_SHUTDOWN_GRACE_MS: "500", STACKYARD_VERIFY_INTERVAL_MS: "200" };
    const worker = await spawnService(d, "worker", "worker-verify", env);
    const approver = new ApiClient(api.base, d.approverToken);
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id;
    assert.equal((await api.waitFor(id, 300_000, ["awaiting-approval"])).status, "awaiting-approval");
    assert.equal((await approver.post(`/v1/operations/${id}/approve`)).status, 202);
    assert.ok(await api.untilEvent(id, /"phase":"verify"/), "the run reached the verify phase");
    await worker.stop();
    const meanwhile = (await api.get(`/v1/operations/${id}`)).body;
    assert.equal(meanwhile.status, "queued", "handed back, not failed: the hosts were still being watched");

    cloud.setRoleAgent(TYPES.droplet, pgB.id, undefined);
    const next = await spawnService(d, "worker", "worker-verify-next", env);
    extra.push(next);
    const final = await api.waitFor(id, 300_000);
    assert.equal(final.status, "succeeded", final.reason);
    assert.equal(final.hosts.converged, true);
    assert.deepEqual(dbRoles(cloud, "theatl"), { "pg-b": "primary" });
    const sse = String((await api.get(`/v1/operations/${id}/events`)).body);
    assert.match(sse, /event: handed-back/);
    assert.equal(sse.match(/event: verify\n/g)?.length, 1, "one verify outcome: the second run's");
  });
});
