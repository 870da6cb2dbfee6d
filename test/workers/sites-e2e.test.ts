import * as assert from "node:assert/strict";
import { reveal } from "../../src/sandbox/property-values";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { deployBaseline, siteCloud } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const SITES = ["vulpine", "chitter", "insync", "datafruits"] as const;

/** Every other site: one run of each operation it supports, through HTTP, with the simulated cloud checked. */
describe("the other four sites end to end: each supported operation once", function () {
  this.timeout(1_200_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  // Failover waits for a second principal (docs/policy.md, approvals).
  let approver: ApiClient;
  const cloud = (site: string): SandboxCloud => siteCloud(d, site);

  before(async () => {
    d = await createDeployment("sites-e2e", SITES);
    await Promise.all(SITES.map((s) => deployBaseline(d, s)));
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    approver = new ApiClient(`http://127.0.0.1:${svc.port}`, d.approverToken);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  for (const site of ["vulpine", "chitter"] as const) {
    it(`scales ${site}'s compose sidekiq pool (the published compose file changes, nothing else)`, async () => {
      const op = await api.run(site, "scale-sidekiq", { count: 4 });
      assert.equal(op.status, "succeeded", op.reason);
      assert.equal(op.outputs.sidekiqCount, 4);
      assert.ok(
        op.preview.steps.length >= 1 && op.preview.steps.every((s: { op: string }) => s.op === "update"),
        JSON.stringify(op.preview.steps),
      );
    });
  }

  it("scales datafruits' sidekiq Deployment to 3 replicas", async () => {
    const op = await api.run("datafruits", "scale-sidekiq", { count: 3 });
    assert.equal(op.status, "succeeded", op.reason);
    const deps = cloud("datafruits")
      .list(TYPES.deployment, "datafruits")
      .filter((r) => /sidekiq-main/.test(r.urn));
    assert.equal(deps.length, 1);
    assert.equal(deps[0]!.sim.replicas, 3);
  });

  it("adds two datafruits managed replicas, removes one (deleted in the cloud), then fails over to the other (the old cluster is fenced by its firewall)", async () => {
    const add = await api.run("datafruits", "add-read-replica", { name: "datafruits-pg-r1" });
    assert.equal(add.status, "succeeded", add.reason);
    assert.equal(cloud("datafruits").list(TYPES.databaseReplica, "datafruits").length, 1);
    // A second replica, removed again: a managed replica is really deleted, not just forgotten.
    const add2 = await api.run("datafruits", "add-read-replica", { name: "datafruits-pg-r2" });
    assert.equal(add2.status, "succeeded", add2.reason);
    assert.equal(cloud("datafruits").list(TYPES.databaseReplica, "datafruits").length, 2);
    const rm = await api.run("datafruits", "remove-read-replica", { name: "datafruits-pg-r2" });
    assert.equal(rm.status, "succeeded", rm.reason);
    assert.deepEqual(
      cloud("datafruits")
        .list(TYPES.databaseReplica, "datafruits")
        .map((r) => r.inputs.name),
      ["datafruits-pg-r1"],
    );
    const fo = await api.runApproved("datafruits", "failover", { target: "datafruits-pg-r1" }, approver);
    assert.equal(fo.status, "succeeded", fo.reason);
    assert.equal(fo.outputs.primary, "datafruits-pg-r1");
  });

  it("adds then removes an Insync MySQL replica, and fails Insync over to db-slave02", async () => {
    const add = await api.run("insync", "add-read-replica", { name: "db-slave03" });
    assert.equal(add.status, "succeeded", add.reason);
    assert.ok(cloud("insync").byName(TYPES.droplet, "db-slave03", "insync"));
    assert.deepEqual([...add.outputs.replicas].sort(), ["db-slave02", "db-slave03"]);
    const rm = await api.run("insync", "remove-read-replica", { name: "db-slave03" });
    assert.equal(rm.status, "succeeded", rm.reason);
    assert.deepEqual(rm.outputs.replicas, ["db-slave02"]);
    const fo = await api.runApproved("insync", "failover", { target: "db-slave02" }, approver);
    assert.equal(fo.status, "succeeded", fo.reason);
    const primaries = cloud("insync")
      .dbNodes("insync")
      .filter((n) => n.role === "primary")
      .map((n) => n.name);
    assert.deepEqual(primaries, ["db-slave02"], "exactly one writable primary");
    const old = cloud("insync").byName(TYPES.droplet, "db", "insync")!;
    assert.ok(
      (reveal(old.outputs.tags) as string[]).some((t) => t.includes("fenced")),
      "the old primary is fenced",
    );
  });
});
