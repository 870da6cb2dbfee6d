import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { cloudSnapshot, deployBaseline, siteCloud } from "./support/baseline";
import { liveCopyOf, treeHashes, type LiveCopy } from "./support/live-copy";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

describe("rehearsal: an operation on a sandbox twin of a live site", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let live: LiveCopy;

  before(async () => {
    // theATL's state comes from an earlier sandbox run; the live service gets a copy of it.
    d = await createDeployment("rehearsal", ["theatl"]);
    await deployBaseline(d, "theatl");
    live = await liveCopyOf(d, "theatl");
    svc = await spawnService(d, "all", "live-service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  it("refuses a rehearse flag that is not a boolean with 400 naming `rehearse`, and queues nothing", async () => {
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
      rehearse: "yes",
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, "VALIDATION_FAILED");
    assert.equal(r.body.error.details.field, "rehearse");
    const hist = await api.get("/v1/sites/theatl/operations?limit=5");
    assert.equal(hist.body.operations.length, 0);
  });

  it("rehearses a failover on the twin: its preview steps, up and verify run there; the live state, stack file and plugins are untouched", async () => {
    const stateBefore = treeHashes(path.join(live.backend, ".pulumi"));
    const stackFile = path.join(live.workspace, "stacks", "Pulumi.theatl.yaml");
    const fileBefore = fs.readFileSync(stackFile, "utf8");
    const head = () => execFileSync("git", ["rev-parse", "HEAD"], { cwd: live.workspace, encoding: "utf8" });
    const headBefore = head();
    const sandboxBefore = cloudSnapshot(siteCloud(d, "theatl"));

    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
      rehearse: true,
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const op = await api.waitFor(r.body.id);
    assert.equal(op.status, "succeeded", op.reason);
    assert.equal(op.rehearsal, true);
    assert.equal(op.approval, undefined, "a rehearsal waits for nobody");

    // The failover's own steps: the database hosts retagged in place and the primary's DNS name moved.
    const steps = op.preview.steps as Array<{ op: string; type: string; urn: string }>;
    const named = (n: string) => steps.filter((s) => s.urn.endsWith(`::${n}`));
    assert.deepEqual(
      named("pg-a").map((s) => [s.type, s.op]),
      [[TYPES.droplet, "update"]],
    );
    assert.deepEqual(
      named("pg-b").map((s) => [s.type, s.op]),
      [[TYPES.droplet, "update"]],
    );
    assert.ok(
      steps.every((s) => s.op === "update"),
      `only updates: ${steps.map((s) => `${s.op} ${s.urn}`).join(", ")}`,
    );
    assert.ok(op.result.resourceChanges.update >= 2, JSON.stringify(op.result.resourceChanges));
    // The verify phase observed the twin's hosts take their new roles.
    assert.equal(op.hosts.converged, true);
    const expected = Object.fromEntries(
      op.hosts.observations.map((o: { node: string; expected: string; ok: boolean }) => [
        o.node,
        [o.expected, o.ok],
      ]),
    );
    assert.deepEqual(expected["pg-b"], ["primary", true]);

    // Nothing live moved: the state, the stack file, its git history, no live plugin ran.
    assert.deepEqual(treeHashes(path.join(live.backend, ".pulumi")), stateBefore);
    assert.equal(fs.readFileSync(stackFile, "utf8"), fileBefore);
    assert.equal(head(), headBefore);
    assert.equal(fs.existsSync(live.started), false, "no live provider plugin was started");
    // Nor the sandbox run the state came from: the twin had a cloud of its own.
    assert.deepEqual(cloudSnapshot(siteCloud(d, "theatl")), sandboxBefore);
    // The twin is gone once the rehearsal ended.
    assert.deepEqual(fs.readdirSync(path.join(live.dir, "state", "rehearsals")), []);

    // The site links the rehearsal and still reports the deployment it had.
    const site = await api.get("/v1/sites/theatl");
    assert.equal(site.status, 200);
    assert.deepEqual(site.body.rehearsal, {
      operationId: op.id,
      kind: "failover",
      status: "succeeded",
      finishedAt: op.finishedAt,
      href: `/v1/operations/${op.id}`,
    });
    assert.equal(site.body.last, null, "a rehearsal is not the site's last operation");
    assert.equal(site.body.deployed.lastOperationId, undefined);
    const text = await fetch(`${api.base}/v1/sites/theatl`, {
      headers: { authorization: `Bearer ${d.adminToken}`, accept: "text/plain" },
    }).then((res) => res.text());
    assert.match(text, new RegExp(`^rehearsal: ${op.id} failover succeeded at `, "m"));
    assert.equal(site.body.revision.differ === true, false, "the stack file's revision is unchanged");
  });

  // Last: it arms what the rehearsal test checks. The same request without `rehearse` is a live run,
  // whose engine starts the live home's plugins (here, traps that fail): the check above could fail.
  it("runs the same failover live without `rehearse`: the live plugins are started and fail loudly", async () => {
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const op = await api.waitFor(r.body.id);
    assert.equal(op.status, "failed");
    assert.equal(op.rehearsal, undefined);
    assert.ok(fs.existsSync(live.started), "the live run started a live provider plugin");
  });
});
