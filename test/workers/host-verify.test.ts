import * as assert from "node:assert/strict";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { theatlService } from "./support/theatl-service";
import { dbRoles, hostChecks } from "./support/baseline";
import { createDeployment, type Deployment, type ServiceProcess } from "./support/service-harness";

/**
 * The verify phase: after `up`, an operation that moves theATL's database topology waits until the
 * hosts show it (through the live facts; in the sandbox, the simulated hosts' databases), and ends
 * HOST_NOT_CONVERGED, with what was observed, when they do not.
 */
describe("verify phase: an operation is done when the hosts did it", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let approver: ApiClient;
  let cloud: SandboxCloud;
  const droplet = (name: string) => cloud.byName(TYPES.droplet, name, "theatl")!;

  before(async () => {
    d = await createDeployment("host-verify", ["theatl"], {
      STACKYARD_VERIFY_TIMEOUT_MS: "3000",
      STACKYARD_VERIFY_INTERVAL_MS: "250",
    });
    ({ svc, api, approver, cloud } = await theatlService(d));
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  it("a failover whose promotion fails on the target ends HOST_NOT_CONVERGED: applied and recorded, with what each host was seen as", async () => {
    cloud.setRoleAgent(TYPES.droplet, droplet("pg-b").id, "stuck");
    const op = await api.runApproved("theatl", "failover", { target: "pg-b" }, approver);
    assert.equal(op.status, "failed", op.reason);
    assert.equal(op.failure.code, "HOST_NOT_CONVERGED");
    assert.match(op.reason, /pg-b: expected primary, observed standby, healthy/);
    assert.equal(op.hosts.converged, false);
    assert.ok(op.hosts.rounds >= 2, `observed ${op.hosts.rounds} times`);
    assert.ok(op.hosts.waitedMs >= 3000);
    assert.deepEqual(hostChecks(op), [
      ["pg-b", "primary", false],
      ["pg-a", "fenced", true],
    ]);
    // The cloud change happened and is the site's deployed revision: nothing was rolled back.
    assert.equal(op.revision.to, 1);
    assert.equal((await api.get("/v1/sites/theatl")).body.configRevision, 1);
    assert.deepEqual(dbRoles(cloud, "theatl"), { "pg-b": "standby" }, "pg-b's database never promoted");
    // The event stream (SSE) carries the verify phase's observations.
    const stream = await fetch(`http://127.0.0.1:${svc.port}/v1/operations/${op.id}/events`, {
      headers: { authorization: `Bearer ${d.adminToken}` },
    });
    const text = await stream.text();
    const verify = /event: verify\ndata: (.*)\n/.exec(text);
    assert.ok(verify, "a verify event");
    assert.equal(JSON.parse(verify[1]!).converged, false);
  });

  it("once the host acts, the retried failover verifies and succeeds: pg-b a writable primary, pg-a fenced", async () => {
    cloud.setRoleAgent(TYPES.droplet, droplet("pg-b").id, undefined);
    const op = await api.runApproved("theatl", "failover", { target: "pg-b" }, approver);
    assert.equal(op.status, "succeeded", op.reason);
    assert.equal(op.hosts.converged, true);
    assert.deepEqual(
      op.hosts.observations.map((o: { node: string; observed: string }) => [o.node, o.observed]),
      [
        ["pg-b", "primary, healthy"],
        ["pg-a", "unobserved"],
      ],
    );
  });

  it("the old primary rejoins as a standby (add-read-replica pg-a), then fails back: each verified on the hosts", async () => {
    const add = await api.runApproved("theatl", "add-read-replica", { name: "pg-a" }, approver);
    assert.equal(add.status, "succeeded", add.reason);
    assert.deepEqual(hostChecks(add), [
      ["pg-b", "primary", true],
      ["pg-a", "standby", true],
    ]);
    const back = await api.runApproved("theatl", "failover", { target: "pg-a" }, approver);
    assert.equal(back.status, "succeeded", back.reason);
    assert.equal(back.hosts.converged, true);
    assert.deepEqual(dbRoles(cloud, "theatl"), { "pg-a": "primary" });
  });
});
