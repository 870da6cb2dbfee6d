import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { deployedRevisionFromState } from "../../src/programs/revision-guard";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { waitForEvent } from "./support/op-events";
import { deployBaseline, openSession, siteCloud, theatlPoolDroplets, waitForHeld } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const poolDroplets = (d: Deployment) => theatlPoolDroplets(siteCloud(d, "theatl"));

/** Engine lock files left in the file backend (a stopped CLI removes its own). */
function lockFiles(d: Deployment): string[] {
  const root = path.join(d.stateDir, "backend", ".pulumi", "locks");
  return fs.existsSync(root)
    ? (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith(".json"))
    : [];
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
    const countBefore = sidekiqCount(files.load("theatl"));
    // The first droplet create waits in the provider until the cancel has reached the engine.
    siteCloud(d, "theatl").setFaults({ hold: { method: "create", type: TYPES.droplet } });
    const since = Date.now();
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 6 },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id as string;
    await waitForHeld(d, since);

    const c = await api.post(`/v1/operations/${id}/cancel`);
    assert.equal(c.status, 202, JSON.stringify(c.body));
    await waitForEvent(d.redis.url, id, (e) => e.type === "cancel-signalled");
    siteCloud(d, "theatl").releaseHold();
    const final = await api.waitFor(id, 300_000);
    assert.equal(final.status, "cancelled", final.reason);
    siteCloud(d, "theatl").clearFaults();

    assert.deepEqual(lockFiles(d), [], "no engine lock left behind");
    const session = await openSession(d, "theatl");
    assert.deepEqual(await session.pendingOperations(), [], "no pending operation in the state");
    // Whether the engine registered the program's outputs before the cancel took effect is the
    // engine's own race: either way the file asks for the spec it had, at or above the deployed revision.
    const deployed = deployedRevisionFromState(await session.stack.exportStack()) ?? 0;
    const file = files.load("theatl");
    assert.equal(sidekiqCount(file), countBefore, "the stack file asks for the spec it had");
    assert.ok(
      file.configRevision >= deployed,
      `file revision ${file.configRevision} is not below the deployed ${deployed}`,
    );
    if (final.settlement.action === "restored")
      assert.equal(file.configRevision, before, "the stack file is back at its revision");
    else assert.equal(final.settlement.action, "reverted", JSON.stringify(final.settlement));

    const next = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(next.status, "succeeded", next.reason);
    assert.equal(poolDroplets(d), 3, "the next operation converges the cloud to the stack file");
  });

  it("a cancel that lands after the engine recorded the new revision (in the deletes it runs last) never wedges the stack: the spec goes back as a newer revision and the next operation runs", async () => {
    const files = new StackFileStore(d.workspace);
    const up = await api.run("theatl", "scale-sidekiq", { count: 4 });
    assert.equal(up.status, "succeeded", up.reason);
    // Scaling down deletes droplets after the program has registered its outputs (configRevision
    // included): hold the first delete, cancel, and let it finish once the engine has the cancel.
    siteCloud(d, "theatl").setFaults({ hold: { method: "delete", type: TYPES.droplet } });
    const since = Date.now();
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 2 },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id as string;
    await waitForHeld(d, since);
    assert.equal((await api.post(`/v1/operations/${id}/cancel`)).status, 202);
    await waitForEvent(d.redis.url, id, (e) => e.type === "cancel-signalled");
    siteCloud(d, "theatl").releaseHold();
    const final = await api.waitFor(id, 300_000);
    siteCloud(d, "theatl").clearFaults();
    assert.equal(final.status, "cancelled", final.reason);

    // The engine recorded the cancelled operation's revision: the file is above it, never below.
    const session = await openSession(d, "theatl");
    const deployed = deployedRevisionFromState(await session.stack.exportStack());
    assert.equal(
      deployed,
      final.revision.to,
      "the engine had recorded the operation's revision before it stopped",
    );
    const file = files.load("theatl");
    assert.ok(
      file.configRevision > deployed!,
      `file revision ${file.configRevision} is above the deployed ${deployed}`,
    );
    assert.equal(final.settlement.action, "reverted", JSON.stringify(final.settlement));
    assert.equal(final.settlement.fileRevision, file.configRevision);
    assert.ok(
      final.settlement.applied.some((s: string) => s.startsWith("delete ")),
      `what the engine applied is recorded: ${JSON.stringify(final.settlement.applied)}`,
    );
    assert.equal(sidekiqCount(file), 4, "the file asks for the spec before the cancelled operation");
    const committed = execFileSync("git", ["log", "-1", "--format=%s", "--", "stacks/Pulumi.theatl.yaml"], {
      cwd: d.workspace,
      encoding: "utf8",
    });
    assert.match(
      committed,
      new RegExp(`back to the spec before ${id} \\(config revision ${file.configRevision}\\)`),
    );
    assert.equal(
      (await api.get("/v1/sites/theatl")).body.deployed.configRevision,
      deployed,
      "the site's deployed revision is the engine's",
    );

    const next = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(next.status, "succeeded", next.reason);
    assert.equal(next.revision.to, file.configRevision + 1);
    assert.equal(poolDroplets(d), 3);
  });
});

/** Resolves once a provider call is held by the fault plan (the run is at a known step). */
const sidekiqCount = (config: { spec: unknown }) =>
  (config.spec as { sidekiq: { pools: { main: { count: number } } } }).sidekiq.pools.main.count;
