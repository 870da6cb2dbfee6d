import * as assert from "node:assert/strict";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { cloudSnapshot as snapshot, dbRoles, deployBaseline, siteCloud } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const roles = (cloud: SandboxCloud) => dbRoles(cloud, "theatl");
const TTL_MS = 15_000;

/**
 * Layers 3 (resource policy) and the blast radius through the API on the real engine, and the
 * approval flow of a failover. One theATL deployment; each refusal leaves the simulated cloud as it was.
 */
describe("policy pack, blast radius and approvals through the service", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let approver: ApiClient;
  let cloud: SandboxCloud;
  let files: StackFileStore;

  before(async () => {
    d = await createDeployment("policy-e2e", ["theatl"], { STACKYARD_APPROVAL_TTL_MS: String(TTL_MS) });
    await deployBaseline(d, "theatl");
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    approver = new ApiClient(`http://127.0.0.1:${svc.port}`, d.approverToken);
    cloud = siteCloud(d, "theatl");
    files = new StackFileStore(d.workspace);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  /** Edits the stack file as an operator would (a reviewed commit), for the length of `fn`. */
  async function withStackEdit(edit: (spec: any) => void, fn: () => Promise<void>) {
    const text = files.readText("theatl");
    const cfg = files.load("theatl");
    edit(cfg.spec);
    files.writeSpec("theatl", cfg.spec, cfg.configRevision);
    try {
      await fn();
    } finally {
      files.writeText("theatl", text);
    }
  }

  it("runs the policy pack on preview and up: a scale inside every policy succeeds", async () => {
    const op = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(op.status, "succeeded", op.reason);
    assert.equal(op.refusals, undefined);
    const events = String((await api.get(`/v1/operations/${op.id}/events`)).body);
    assert.match(events, /event: summary\ndata: .*"phase":"preview".*"policyPacks":\{"stackyard":/);
    assert.match(events, /event: summary\ndata: .*"phase":"up".*"policyPacks":\{"stackyard":/);
  });

  it("refuses an update whose config opens PostgreSQL to the internet, naming the policy, and changes nothing", async () => {
    const before = snapshot(cloud);
    await withStackEdit(
      (s) => (s.postgres.clientCidrs = ["0.0.0.0/0"]),
      async () => {
        const op = await api.run("theatl", "scale-sidekiq", { count: 2 });
        assert.equal(op.status, "failed");
        assert.match(op.reason, /^POLICY_VIOLATION: /);
        const r = op.refusals.find((x: any) => x.rule === "data-plane-private-only");
        assert.ok(r, JSON.stringify(op.refusals));
        assert.equal(r.layer, "policy");
        assert.match(r.message, /opens PostgreSQL port 5432 to 0\.0\.0\.0\/0/);
        assert.equal(r.limit, "private network only");
        assert.equal(op.result, undefined, "no up ran");
      },
    );
    assert.deepEqual(snapshot(cloud), before);
  });

  it("stops a scale-sidekiq whose preview would also replace the database hosts, before up; the database keeps its id", async () => {
    const pgA = cloud.byName(TYPES.droplet, "pg-a", "theatl")!.id;
    const before = snapshot(cloud);
    // A program-visible change that forces replacement of every droplet, database hosts included.
    await withStackEdit(
      (s) => (s.image = "ubuntu-22-04-x64"),
      async () => {
        const op = await api.run("theatl", "scale-sidekiq", { count: 4 });
        assert.equal(op.status, "failed");
        assert.match(op.reason, /^BLAST_RADIUS_EXCEEDED: /);
        const pg = op.refusals.find((x: any) => x.layer === "blast-radius" && /::pg-a$/.test(x.value));
        assert.ok(pg, JSON.stringify(op.refusals.map((x: any) => x.value)));
        assert.match(
          pg.value,
          /^(replace|create-replacement|delete-replaced) digitalocean:index\/droplet:Droplet /,
        );
        assert.equal(op.result, undefined, "no up ran");
      },
    );
    assert.equal(cloud.byName(TYPES.droplet, "pg-a", "theatl")!.id, pgA);
    assert.deepEqual(snapshot(cloud), before);
  });

  it("lets an unapproved failover expire; approval after expiry is refused (409) and nothing changes", async () => {
    const before = snapshot(cloud);
    const sub = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
    });
    assert.equal(sub.status, 202);
    const waiting = await api.waitFor(sub.body.id, 300_000, ["awaiting-approval"]);
    assert.equal(waiting.status, "awaiting-approval");
    await new Promise((r) => setTimeout(r, Date.parse(waiting.approval.expiresAt) - Date.now() + 500));
    const late = await approver.post(`/v1/operations/${sub.body.id}/approve`);
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, "APPROVAL_EXPIRED");
    assert.equal((await api.get(`/v1/operations/${sub.body.id}`)).body.status, "expired");
    assert.deepEqual(roles(cloud), { "pg-a": "primary", "pg-b": "standby" });
    assert.deepEqual(snapshot(cloud), before);
  });

  it("refuses self-approval (403); a second principal's approval completes the failover", async () => {
    const sub = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
    });
    const waiting = await api.waitFor(sub.body.id, 300_000, ["awaiting-approval"]);
    assert.equal(waiting.status, "awaiting-approval");
    assert.deepEqual(waiting.approval.reasons, ["failover is marked risky for theatl"]);
    const self = await api.post(`/v1/operations/${sub.body.id}/approve`);
    assert.equal(self.status, 403);
    assert.equal(self.body.error.code, "SELF_APPROVAL_FORBIDDEN");
    const ok = await approver.post(`/v1/operations/${sub.body.id}/approve`);
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    const done = await api.waitFor(sub.body.id);
    assert.equal(done.status, "succeeded", done.reason);
    assert.equal(done.approval.approvedBy, "approver");
    assert.equal(roles(cloud)["pg-b"], "primary");
  });
});
