import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { reveal } from "../../src/sandbox/property-values";
import { TYPES, type SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { deployBaseline, openSession, siteCloud } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

/** The droplet's size as the engine's state for theATL holds it (inputs and outputs). */
async function stateSize(d: Deployment, urn: string): Promise<{ inputs: unknown; outputs: unknown }> {
  const session = await openSession(d, "theatl");
  const state = await session.stack.exportStack();
  const res = (state.deployment?.resources ?? []) as Array<{ urn: string; inputs?: any; outputs?: any }>;
  const r = res.find((x) => x.urn === urn);
  assert.ok(r, `the state holds ${urn}`);
  return { inputs: r.inputs?.size, outputs: r.outputs?.size };
}

describe("drift on theATL with remediate: refresh: the cloud's change is accepted into the state", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let cloud: SandboxCloud;

  before(async () => {
    d = await createDeployment("drift-refresh", ["theatl"]);
    const driftFile = path.join(d.dir, "drift.json");
    // On demand only: no scheduled detection can run between the test's steps.
    fs.writeFileSync(driftFile, JSON.stringify({ theatl: { enabled: false, remediate: "refresh" } }));
    d.env.STACKYARD_DRIFT_FILE = driftFile;
    await deployBaseline(d, "theatl");
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    cloud = siteCloud(d, "theatl");
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  const detect = async () => {
    const asked = await api.post("/v1/sites/theatl/drift");
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const op = await api.waitFor(asked.body.id);
    assert.equal(op.status, "succeeded", op.reason);
    return op;
  };

  it("reports a resized droplet, refreshes it into the state, leaves the cloud as it is, and finds nothing next time", async () => {
    const web = cloud.list(TYPES.droplet, "theatl").find((r) => /web/.test(r.urn.split("::").pop()!))!;
    assert.ok(web, "theATL has a web droplet");
    const webName = web.urn.split("::").pop()!;
    const oldSize = String(reveal(web.inputs.size));
    const newSize = oldSize === "s-8vcpu-16gb" ? "s-4vcpu-8gb" : "s-8vcpu-16gb";
    assert.deepEqual(await stateSize(d, web.urn), { inputs: oldSize, outputs: oldSize });

    cloud.changeOutOfBand(TYPES.droplet, web.id, { size: newSize });
    const found = await detect();
    assert.deepEqual(
      found.drift.drifted.map((x: any) => [x.urn, x.name, x.property, x.expected, x.found]),
      [[web.urn, webName, "size", oldSize, newSize]],
    );
    assert.equal(found.drift.resources, 1);
    assert.deepEqual(found.drift.deleted, []);
    assert.equal(
      found.drift.remediation,
      "refreshed",
      "the report says the cloud was accepted into the state",
    );
    const latest = await api.get("/v1/sites/theatl/drift");
    assert.equal(latest.body.drift.operationId, found.id);
    assert.equal(latest.body.drift.remediation, "refreshed");

    // The state now records the size the cloud has; the cloud was not put back.
    assert.deepEqual(await stateSize(d, web.urn), { inputs: newSize, outputs: newSize });
    assert.equal(reveal(cloud.get(TYPES.droplet, web.id)!.inputs.size), newSize);
    assert.equal(reveal(cloud.get(TYPES.droplet, web.id)!.outputs.size), newSize);

    // The next detection sees no drift: state and cloud agree.
    const after = await detect();
    assert.equal(after.drift.resources, 0, JSON.stringify(after.drift));
    assert.equal(after.drift.remediation, "none");
    assert.equal(reveal(cloud.get(TYPES.droplet, web.id)!.inputs.size), newSize);
  });
});
