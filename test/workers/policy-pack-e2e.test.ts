import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import type { PolicyOverrides } from "../../src/policy/policy-settings";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { cloudSnapshot, deployBaseline, openSession, siteCloud } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

/** The service entry with a changed site program (test/workers/support/changed-program-main.ts). */
const CHANGED_PROGRAM_MAIN = path.join(__dirname, "support", "changed-program-main.js");

/** theATL's sidekiq pool droplets in the simulated cloud, by name. */
const poolDroplets = (cloud: SandboxCloud) =>
  cloud
    .list()
    .filter((r) => r.type === TYPES.droplet && /^theatl-sidekiq-main-\d+$/.test(String(r.outputs.name)))
    .map((r) => String(r.outputs.name))
    .sort();

/**
 * Every policy of the resource pack, passed and tripped through the API on the real engine. The
 * site's policy file narrows sizes and sets a resource ceiling; changed site programs (standing in
 * for a bad commit to src/programs/) drop a tag, tag for another site, or drop `protect`. Each
 * trip leaves the simulated cloud as it was.
 */
describe("resource policy pack: every policy passed and tripped through the service", function () {
  this.timeout(900_000);
  let d: Deployment;
  let svc: ServiceProcess | undefined;
  let api: ApiClient;
  let cloud: SandboxCloud;
  const policyFile = () => path.join(d.dir, "policy.json");

  before(async () => {
    d = await createDeployment("policy-pack-e2e", ["theatl"]);
    await deployBaseline(d, "theatl");
    cloud = siteCloud(d, "theatl");
  });

  afterEach(async () => {
    await svc?.stop();
    svc = undefined;
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  /** (Re)starts the service with the site's policy file and, optionally, a changed program. */
  async function serve(policy: PolicyOverrides, programChange?: string) {
    fs.writeFileSync(policyFile(), JSON.stringify(policy));
    const env: Record<string, string> = { STACKYARD_POLICY_FILE: policyFile() };
    if (programChange) env.STACKYARD_TEST_PROGRAM_CHANGE = programChange;
    svc = await spawnService(
      d,
      "all",
      programChange ? `changed-${programChange}` : "service",
      env,
      programChange ? CHANGED_PROGRAM_MAIN : undefined,
    );
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
  }

  /** The resources of the stack as the pack's stack policies count them: all the engine registered (the stack, providers, components). */
  async function stackResourceCount(): Promise<number> {
    const state = await (await openSession(d, "theatl")).stack.exportStack();
    return (state.deployment.resources ?? []).length;
  }

  /** Runs the operation, expects the pack to refuse it with `rule`, and checks nothing changed. */
  async function tripped(operation: string, params: Record<string, unknown>, rule: string) {
    const before = cloudSnapshot(cloud);
    const op = await api.run("theatl", operation, params);
    assert.equal(op.status, "failed", JSON.stringify(op.refusals));
    assert.match(op.reason, /^POLICY_VIOLATION: /);
    const r = op.refusals.find((x: any) => x.rule === rule);
    assert.ok(r, JSON.stringify(op.refusals));
    assert.equal(r.layer, "policy");
    assert.equal(op.result, undefined, "no up ran");
    assert.deepEqual(cloudSnapshot(cloud), before, "the simulated cloud is unchanged");
    return { op, refusal: r };
  }

  const THEATL_SIZES = ["s-1vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-8gb"];

  it("sizes-from-allow-list: a scale inside theATL's narrowed list passes; a replica on a size outside it is refused", async () => {
    await serve({ theatl: { sizes: { "digitalocean-droplet": THEATL_SIZES } } });
    const ok = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(ok.status, "succeeded", ok.reason);
    assert.equal(ok.refusals, undefined);
    assert.deepEqual(poolDroplets(cloud), [
      "theatl-sidekiq-main-1",
      "theatl-sidekiq-main-2",
      "theatl-sidekiq-main-3",
    ]);

    // Priced and within the cost ceiling, so only the pack stands in the way.
    const { op, refusal } = await tripped(
      "add-read-replica",
      { name: "pg-c", size: "s-2vcpu-4gb-amd" },
      "sizes-from-allow-list",
    );
    assert.match(refusal.message, /"pg-c" asks for digitalocean-droplet size s-2vcpu-4gb-amd/);
    assert.equal(refusal.limit, `one of ${THEATL_SIZES.join(", ")}`);
    assert.ok(
      op.refusals.every((x: any) => x.rule === "sizes-from-allow-list"),
      JSON.stringify(op.refusals),
    );
    assert.equal(cloud.byName(TYPES.droplet, "pg-c", "theatl"), undefined);
  });

  it("resource-count-ceiling: a scale up to the ceiling passes; one resource over it is refused", async () => {
    const ceiling = (await stackResourceCount()) + 1; // room for exactly one more sidekiq droplet
    await serve({ theatl: { resourceCeiling: ceiling } });
    const ok = await api.run("theatl", "scale-sidekiq", { count: 4 });
    assert.equal(ok.status, "succeeded", ok.reason);
    assert.equal(await stackResourceCount(), ceiling, "at the ceiling exactly");

    const { refusal } = await tripped("scale-sidekiq", { count: 5 }, "resource-count-ceiling");
    assert.equal(refusal.message, `stack for site theatl has ${ceiling + 1} resources (limit: ${ceiling})`);
    assert.equal(refusal.limit, String(ceiling));
    assert.equal(poolDroplets(cloud).length, 4);
  });

  it("site-tags-required: a program change that forgets the site tag on a new droplet is refused", async () => {
    await serve({}, "untag:theatl-sidekiq-main-5");
    const { refusal } = await tripped("scale-sidekiq", { count: 5 }, "site-tags-required");
    assert.match(
      refusal.message,
      /^digitalocean:index\/droplet:Droplet "theatl-sidekiq-main-5" has no site tag/,
    );
    assert.equal(refusal.limit, "every taggable resource carries site:<id>");
    assert.equal(poolDroplets(cloud).length, 4);
  });

  it("one-site-per-stack: a program change that tags a new droplet for Insync is refused", async () => {
    await serve({}, "retag:theatl-sidekiq-main-5:insync");
    const { refusal } = await tripped("scale-sidekiq", { count: 5 }, "one-site-per-stack");
    assert.equal(refusal.message, "resources are tagged for 2 sites: insync, theatl (limit: 1)");
    assert.equal(poolDroplets(cloud).length, 4);
  });

  it("stateful-resources-protected: a program change that drops protect from the PostgreSQL host is refused, the host keeps its id", async () => {
    const pgA = cloud.byName(TYPES.droplet, "pg-a", "theatl")!.id;
    await serve({}, "unprotect:pg-a");
    const { refusal } = await tripped("scale-sidekiq", { count: 5 }, "stateful-resources-protected");
    assert.match(refusal.message, /^digitalocean:index\/droplet:Droplet "pg-a" holds data but protect=false/);
    assert.equal(cloud.byName(TYPES.droplet, "pg-a", "theatl")!.id, pgA);
  });

  it("the same scale passes every policy once the program is the repo's own again", async () => {
    await serve({});
    const ok = await api.run("theatl", "scale-sidekiq", { count: 5 });
    assert.equal(ok.status, "succeeded", ok.reason);
    assert.equal(poolDroplets(cloud).length, 5);
  });
});
