import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { reveal } from "../../src/sandbox/property-values";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { theatlService } from "./support/theatl-service";
import { dbRoles } from "./support/baseline";
import { createDeployment, type Deployment, type ServiceProcess } from "./support/service-harness";

/** Sidekiq droplets of theATL in the simulated cloud, the scheduler excluded. */
function poolDroplets(cloud: SandboxCloud): string[] {
  return cloud
    .list(TYPES.droplet, "theatl")
    .map((r) => r.urn.split("::").pop()!)
    .filter((n) => /^theatl-sidekiq-main-\d+$/.test(n))
    .sort();
}

const DNS = "digitalocean:index/dnsRecord:DnsRecord";

/** Private DNS records the apps resolve: name → values. */
function dns(cloud: SandboxCloud, name: string): string[] {
  return cloud
    .list(DNS, "theatl")
    .filter((r) => reveal(r.outputs.name) === name)
    .map((r) => String(reveal(r.outputs.value)))
    .sort();
}

function privateIp(cloud: SandboxCloud, node: string): string {
  const rec = cloud.byName(TYPES.droplet, node, "theatl");
  return String(reveal(rec?.outputs.ipv4AddressPrivate));
}

const roles = (cloud: SandboxCloud) => dbRoles(cloud, "theatl");

describe("theATL end to end: HTTP → queue → worker → real engine → sandbox", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  // Failover waits for a second principal (docs/policy.md, approvals).
  let approver: ApiClient;
  let cloud: SandboxCloud;

  before(async () => {
    d = await createDeployment("theatl-e2e", ["theatl"]);
    ({ svc, api, approver, cloud } = await theatlService(d));
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
    assert.ok(
      up.preview.steps.every(
        (s: { op: string; type: string }) => s.op === "create" && s.type === TYPES.droplet,
      ),
      JSON.stringify(up.preview.steps),
    );

    const down = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(down.status, "succeeded", down.reason);
    assert.deepEqual(poolDroplets(cloud), [
      "theatl-sidekiq-main-1",
      "theatl-sidekiq-main-2",
      "theatl-sidekiq-main-3",
    ]);
    assert.equal(down.revision.to, 2);
    const log = execFileSync("git", ["log", "--format=%s", "--", "stacks/Pulumi.theatl.yaml"], {
      cwd: d.workspace,
      encoding: "utf8",
    });
    assert.match(log, /scale theatl sidekiq pool "main" from 5 to 3 process\(es\) \(config revision 2\)/);
    const site = await api.get("/v1/sites/theatl");
    assert.equal(site.body.configRevision, 2);
    assert.equal(site.body.deployed.configRevision, 2);
  });

  it("adds a read replica (a new standby droplet in the replica DNS name), then removes it (fenced, out of DNS)", async () => {
    const added = await api.run("theatl", "add-read-replica", { name: "pg-c" });
    assert.equal(added.status, "succeeded", added.reason);
    assert.deepEqual(roles(cloud), { "pg-a": "primary", "pg-b": "standby", "pg-c": "standby" });
    assert.deepEqual(
      dns(cloud, "db-replica.int"),
      [privateIp(cloud, "pg-b"), privateIp(cloud, "pg-c")].sort(),
    );
    assert.deepEqual(added.outputs.replicas, ["pg-b", "pg-c"]);

    const removed = await api.run("theatl", "remove-read-replica", { name: "pg-c" });
    assert.equal(removed.status, "succeeded", removed.reason);
    assert.deepEqual(
      roles(cloud),
      { "pg-a": "primary", "pg-b": "standby" },
      "pg-c no longer streams or serves",
    );
    assert.deepEqual(dns(cloud, "db-replica.int"), [privateIp(cloud, "pg-b")]);
    assert.deepEqual(removed.outputs.fenced, ["pg-c"]);
  });

  it("refuses a failover while the standby lags beyond 30 s and changes nothing", async () => {
    const pgb = cloud.byName(TYPES.droplet, "pg-b", "theatl")!;
    cloud.setDbNode(TYPES.droplet, pgb.id, { replicationLagSeconds: 45 });
    try {
      const refused = await api.run("theatl", "failover", { target: "pg-b" });
      assert.equal(refused.status, "failed");
      assert.match(refused.reason, /GUARD_REFUSED: standby pg-b lags 45 s; the limit is 30 s/);
      assert.equal(roles(cloud)["pg-a"], "primary");
      const site = await api.get("/v1/sites/theatl");
      assert.equal(site.body.configRevision, 4, "the stack file was restored to the deployed revision");
    } finally {
      cloud.setDbNode(TYPES.droplet, pgb.id, { replicationLagSeconds: 0 });
    }
  });

  it("refuses a failover to an unhealthy standby and changes nothing", async () => {
    const pgb = cloud.byName(TYPES.droplet, "pg-b", "theatl")!;
    cloud.setDbNode(TYPES.droplet, pgb.id, { healthy: false });
    try {
      const refused = await api.run("theatl", "failover", { target: "pg-b" });
      assert.equal(refused.status, "failed");
      assert.match(refused.reason, /GUARD_REFUSED: standby pg-b is unhealthy/);
      assert.deepEqual(
        refused.refusals.map((r: any) => [r.rule, r.value, r.limit]),
        [["standby-ready", "unhealthy", "healthy"]],
      );
      assert.deepEqual(roles(cloud), { "pg-a": "primary", "pg-b": "standby" });
      assert.equal(
        (await api.get("/v1/sites/theatl")).body.configRevision,
        4,
        "the stack file was restored to the deployed revision",
      );
    } finally {
      cloud.setDbNode(TYPES.droplet, pgb.id, { healthy: true });
    }
  });

  it("fails over: exactly one writable primary, the apps' DNS name points at it, the old primary is fenced", async () => {
    const op = await api.runApproved("theatl", "failover", { target: "pg-b" }, approver);
    assert.equal(op.approval.approvedBy, "approver");
    assert.equal(op.status, "succeeded", op.reason);
    const r = roles(cloud);
    assert.deepEqual(
      Object.entries(r)
        .filter(([, v]) => v === "primary")
        .map(([k]) => k),
      ["pg-b"],
    );
    assert.equal(r["pg-a"], undefined, "pg-a carries role:pg-fenced: no role, outside the primary firewall");
    const pga = cloud.byName(TYPES.droplet, "pg-a", "theatl")!;
    assert.ok((reveal(pga.outputs.tags) as string[]).includes("role:pg-fenced"));
    assert.deepEqual(dns(cloud, "db-primary.int"), [privateIp(cloud, "pg-b")]);
    assert.equal(op.outputs.primary, "pg-b");
    assert.ok(
      !op.preview.steps.some(
        (s: { op: string; type: string }) => s.type === TYPES.droplet && s.op !== "update",
      ),
      "no database host is replaced",
    );
  });

  it("streams the operation's events as Server-Sent Events, ending with its final status", async () => {
    const hist = await api.get("/v1/sites/theatl/operations?limit=1");
    const id = hist.body.operations[0].id;
    const sse = await api.get(`/v1/operations/${id}/events`);
    assert.match(sse.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = String(sse.body);
    assert.match(text, /event: status\ndata: \{"status":"queued"\}/);
    assert.match(text, /event: resource\ndata: .*"phase":"up"/);
    assert.match(text, /event: status\ndata: \{"status":"succeeded"\}/);
  });
});
