import * as assert from "node:assert/strict";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { loadStackFile } from "../../src/programs/site-config";
import { seedAdoptedResources } from "../../src/sandbox/adopted-resources";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";
import { copySiteProject, projectName, siteProgram } from "./site-harness";

// Insync's 21 droplets exist: the real engine, through the sandbox, adopts them as the stack file
// states them (ids, live VPCs, monitoring, IPv6, backups) from an account that already holds them.
// The engine's own preview decides whether anything would be replaced.

const DROPLET = "digitalocean:index/droplet:Droplet";
const LIVE_VPC = {
  nyc2: "0c1d2e3f-4a5b-4c6d-8e7f-001122334455",
  sgp1: "9a8b7c6d-5e4f-4a3b-8c2d-aabbccddeeff",
};

/** The live fleet as Insync ops would state it: every droplet with its id and its own settings. */
function adoptLiveFleet(spec: Record<string, any>): void {
  spec.vpcs = {
    nyc2: { ipRange: "10.132.0.0/16", liveId: LIVE_VPC.nyc2 },
    sgp1: { ipRange: "10.130.0.0/16", liveId: LIVE_VPC.sgp1 },
  };
  let id = 301_000_000;
  for (const [name, d] of Object.entries<Record<string, any>>(spec.droplets)) {
    d.importId = String(++id);
    // Old droplets, made before these were defaults: some have the agent, few have IPv6.
    d.monitoring = ["ct1", "web-lb02", "web02"].includes(name);
    d.ipv6 = name === "ct1";
  }
  for (const n of Object.values<Record<string, any>>(spec.mysql.nodes)) {
    n.importId = String(++id);
    n.monitoring = false;
    n.ipv6 = false;
  }
}

interface Step {
  op: string;
  type: string;
  name: string;
}

function recorder() {
  const steps: Step[] = [];
  const warnings: string[] = [];
  return {
    steps,
    warnings,
    onEvent(e: EngineEvent) {
      const m = e.resourcePreEvent?.metadata;
      if (m) steps.push({ op: m.op, type: m.type, name: m.urn.split("::").pop()! });
      const d = e.diagnosticEvent;
      if (d && (d.severity === "warning" || d.severity === "error")) warnings.push(d.message);
    },
  };
}

describe("sandbox: Insync adopts its live fleet", function () {
  let sbx: Sandbox;
  before(async () => {
    sbx = await createSandbox("insync-adopt");
  });
  after(() => sbx?.cleanup());

  it("plans no replace of any adopted droplet, adopts them all, and a removed line leaves the server running", async function () {
    const run = copySiteProject(sbx, "insync");
    run.editSpec(adoptLiveFleet);
    const config = loadStackFile(run.stackFile);
    const seeded = seedAdoptedResources(sbx.cloud, config);
    assert.equal(seeded.length, 22, "21 droplets and the backup bucket exist before the first run");
    const stack = await sbx.open("insync", siteProgram(), {
      projectName: projectName(),
      workDir: run.workDir,
    });

    const preview = recorder();
    await stack.preview({ onEvent: preview.onEvent });
    const replaces = preview.steps.filter((s) => /replace/.test(s.op));
    assert.deepEqual(replaces, [], "no adopted resource is replaced");
    const key = (s: Step) => `${s.type}::${s.name}`;
    const imported = preview.steps.filter((s) => s.op === "import").map(key);
    assert.equal(imported.length, 22, `imports: ${imported.join(", ")}`);
    // An import whose inputs differ from the live resource is followed by an update of it (or a
    // replace, for a ForceNew field): every adopted resource is imported and nothing else.
    const touchedAfterImport = preview.steps.filter((s) => imported.includes(key(s)) && s.op !== "import");
    assert.deepEqual(touchedAfterImport, [], "every import matches its live resource");
    assert.deepEqual(
      preview.warnings.filter((w) => /import|do not match/i.test(w)),
      [],
      "the engine reports no import mismatch",
    );
    // The live VPCs are used, not created; no expiry reaches the adopted backup bucket.
    const creates = preview.steps.filter((s) => s.op === "create").map((s) => s.type);
    assert.ok(!creates.includes("digitalocean:index/vpc:Vpc"), creates.join(", "));
    assert.ok(
      !creates.includes("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"),
      creates.join(", "),
    );

    const first = await stack.up();
    assert.equal(first.summary.result, "succeeded");
    assert.equal(first.summary.resourceChanges?.import, 22);
    for (const d of sbx.cloud.list(DROPLET)) {
      assert.ok(Object.values(LIVE_VPC).includes(String(d.outputs.vpcUuid)), String(d.outputs.name));
    }
    assert.deepEqual(changes((await stack.up()).summary), {}, "a second run changes nothing");

    // The seed's removal list: deleting sendy's line forgets it; the server stays.
    if (config.site !== "insync") throw new Error("not Insync's stack file");
    const sendyId = config.spec.droplets.sendy!.importId!;
    run.editSpec((s) => delete s.droplets.sendy);
    const removed = await stack.up();
    assert.deepEqual(changes(removed.summary), { delete: 1 });
    assert.ok(sbx.cloud.get(DROPLET, sendyId), "sendy still runs in the account");
  });
});
