import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { readCalls } from "../../src/sandbox/call-log";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { ApiClient } from "./support/api-client";
import { deployBaseline, openSession, siteCloud } from "./support/baseline";
import { createDeployment, spawnService, type Deployment, type ServiceProcess } from "./support/service-harness";

const poolDroplets = (d: Deployment) =>
  siteCloud(d, "theatl").list(TYPES.droplet, "theatl").filter((r) => /theatl-sidekiq-main-\d+$/.test(r.urn)).length;

/** Engine lock files left in the file backend (a stopped CLI removes its own). */
function lockFiles(d: Deployment): string[] {
  const root = path.join(d.stateDir, "backend", ".pulumi", "locks");
  return fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".json")) : [];
}

describe("cancelling an operation while its engine update runs", function () {
  this.timeout(600_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;

  before(async () => {
    d = await createDeployment("cancel-running", ["theatl"]);
    await deployBaseline(d, "theatl");
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  it("stops at the engine's next safe point: cancelled, no pending operation or lock, file restored, and the stack still converges", async () => {
    const files = new StackFileStore(d.workspace);
    const before = files.load("theatl").configRevision;
    // Every provider call takes 4 s, so the update is still running when the cancel lands.
    siteCloud(d, "theatl").setFaults({ latencyMs: 4000 });
    const since = Date.now();
    const r = await api.post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count: 6 } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id as string;
    const creating = () => readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some((c) => c.method === "create" && Date.parse(c.ts) >= since);
    for (let i = 0; i < 600 && !creating(); i++) await new Promise((res) => setTimeout(res, 100));
    assert.ok(creating(), "the update reached the provider");

    const c = await api.post(`/v1/operations/${id}/cancel`);
    assert.equal(c.status, 202, JSON.stringify(c.body));
    const final = await api.waitFor(id, 300_000);
    assert.equal(final.status, "cancelled", final.reason);
    siteCloud(d, "theatl").clearFaults();

    assert.deepEqual(lockFiles(d), [], "no engine lock left behind");
    const session = await openSession(d, "theatl");
    assert.deepEqual(await session.pendingOperations(), [], "no pending operation in the state");
    assert.equal(files.load("theatl").configRevision, before, "the stack file is back at its revision");

    const next = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(next.status, "succeeded", next.reason);
    assert.equal(poolDroplets(d), 3, "the next operation converges the cloud to the stack file");
  });
});
