import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { deployBaseline } from "./support/baseline";
import { createDeployment, spawnService, type Deployment, type ServiceProcess } from "./support/service-harness";

/** Sidekiq droplets of theATL in the simulated cloud, the scheduler excluded. */
function poolDroplets(cloud: SandboxCloud): string[] {
  return cloud
    .list(TYPES.droplet, "theatl")
    .map((r) => r.urn.split("::").pop()!)
    .filter((n) => /^theatl-sidekiq-main-\d+$/.test(n))
    .sort();
}

describe("theATL end to end: HTTP → queue → worker → real engine → sandbox", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let cloud: SandboxCloud;

  before(async () => {
    d = await createDeployment("theatl-e2e", ["theatl"]);
    await deployBaseline(d, "theatl");
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    cloud = new SandboxCloud(d.sandboxDir);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  it("scales sidekiq droplets 2 → 5 → 3, commits each revision, and records the operation", async () => {
    assert.equal(poolDroplets(cloud).length, 2);
    const up = await api.run("theatl", "scale-sidekiq", { count: 5 });
    assert.equal(up.status, "succeeded", up.reason);
    assert.equal(poolDroplets(cloud).length, 5);
    assert.equal(up.outputs.sidekiqCount, 5);
    assert.deepEqual(up.revision.from, 0);
    assert.equal(up.revision.to, 1);
    assert.ok(up.preview.steps.every((s: { op: string; type: string }) => s.op === "create" && s.type === TYPES.droplet), JSON.stringify(up.preview.steps));

    const down = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(down.status, "succeeded", down.reason);
    assert.deepEqual(poolDroplets(cloud), ["theatl-sidekiq-main-1", "theatl-sidekiq-main-2", "theatl-sidekiq-main-3"]);
    assert.equal(down.revision.to, 2);
    const log = execFileSync("git", ["log", "--format=%s", "--", "stacks/Pulumi.theatl.yaml"], { cwd: d.workspace, encoding: "utf8" });
    assert.match(log, /scale theatl sidekiq pool "main" from 5 to 3 process\(es\) \(config revision 2\)/);
    const site = await api.get("/v1/sites/theatl");
    assert.equal(site.body.configRevision, 2);
    assert.equal(site.body.deployed.configRevision, 2);
  });
});
