import * as assert from "node:assert/strict";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import { loadStackFile, type SiteId } from "../../src/programs/site-config";
import { seedAdoptedResources } from "../../src/sandbox/adopted-resources";
import { AMBIENT_CREDENTIALS, assertOwnCredentialsOnly } from "../support/site-credentials";
import { dbRoles } from "../workers/support/baseline";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";
import { SiteRun, copySiteProject, projectName, siteProgram, stepRecorder } from "./site-harness";

// Each site's real program and stack file, through the real engine in the sandbox: up from empty,
// a no-op up, a refresh without drift, one knob an operation turns (only the expected resources
// change), and destroy (protected resources refuse until unprotected; then the cloud is empty).

interface SiteCase {
  site: SiteId;
  knob: string;
  turn(spec: Record<string, any>): void;
  /** "<op> <type>" steps the knob may cause; anything else is a failure. */
  expected: RegExp;
  /** Pre-existing cloud resources the stack adopts (import) rather than creates, and the config that adopts them. */
  seed?: (sbx: Sandbox, run: SiteRun) => void;
  /** What the simulated cloud must show after the knob. */
  check?: (sbx: Sandbox) => void;
}

const CASES: SiteCase[] = [
  {
    site: "theatl",
    knob: "sidekiq.pools.main.count +1",
    turn: (s) => (s.sidekiq.pools.main.count += 1),
    expected: /^create digitalocean:index\/droplet:Droplet$/,
  },
  {
    site: "insync",
    knob: "mysql failover db → db-slave02",
    turn: (s) => Object.assign(s.mysql, { primary: "db-slave02", replicas: ["db"] }),
    // The tags move; db-primary.int (the name web and the mailers use) follows the new primary, and
    // db-replica.int's per-node record moves from db-slave02 to db (create one, delete one).
    expected:
      /^(update digitalocean:index\/(droplet:Droplet|firewall:Firewall|dnsRecord:DnsRecord)|(create|delete) digitalocean:index\/dnsRecord:DnsRecord)$/,
    // insync_db_backups predates the program and its name ("_") cannot be created anew: the stack
    // file adopts it, and the account holds it before the first deployment.
    seed(sbx) {
      seedAdoptedResources(sbx.cloud, loadStackFile(path.join(projectRoot, "stacks", "Pulumi.insync.yaml")));
    },
    check(sbx) {
      const roles = dbRoles(sbx.cloud, "insync");
      assert.deepEqual(roles, { db: "standby", "db-slave02": "primary" });
    },
  },
  {
    site: "datafruits",
    knob: "sidekiq.pools.main.count +1",
    turn: (s) => (s.sidekiq.pools.main.count += 1),
    expected: /^update kubernetes:apps\/v1:Deployment$/,
  },
  {
    site: "vulpine",
    knob: "sidekiq.pools.main.count +1",
    turn: (s) => (s.sidekiq.pools.main.count += 1),
    // The compose spec (sidekiq replicas) lives in an object the host pulls: only that object changes.
    expected: /^update linode:index\/objectStorageObject:ObjectStorageObject$/,
  },
  {
    site: "chitter",
    knob: "sidekiq.pools.main.count +1",
    turn: (s) => (s.sidekiq.pools.main.count += 1),
    expected: /^update aws:s3\/bucketObjectv2:BucketObjectv2$/,
  },
];

export const timings: Array<{ site: string; upFromEmptyMs: number; noopMs: number; resources: number }> = [];

for (const c of CASES) {
  describe(`sandbox site ${c.site}`, function () {
    let sbx: Sandbox;
    const saved = { ...process.env };
    before(async () => {
      sbx = await createSandbox(`site-${c.site}`);
      Object.assign(process.env, AMBIENT_CREDENTIALS);
    });
    after(() => {
      for (const k of Object.keys(AMBIENT_CREDENTIALS))
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      sbx?.cleanup();
    });

    it(`ups from empty, no-ops, refreshes clean, turns ${c.knob}, and destroys`, async function () {
      const run = copySiteProject(sbx, c.site);
      const stack = await sbx.open(c.site, siteProgram(), {
        projectName: projectName(),
        workDir: run.workDir,
      });
      c.seed?.(sbx, run);

      let t0 = Date.now();
      const first = await stack.up();
      const upFromEmptyMs = Date.now() - t0;
      assert.equal(first.summary.result, "succeeded");
      const resources = Object.values(sbx.cloud.countByType(c.site)).reduce((a, b) => a + b, 0);
      assert.ok(resources > 0);

      t0 = Date.now();
      const noop = await stack.up();
      const noopMs = Date.now() - t0;
      assert.deepEqual(changes(noop.summary), {}, "no-op up changes nothing");
      assertOwnCredentialsOnly(sbx.cloud.dir, c.site);
      assert.deepEqual(changes((await stack.refresh()).summary), {}, "refresh finds no drift");
      timings.push({ site: c.site, upFromEmptyMs, noopMs, resources });
      console.log(
        `      ${c.site}: ${resources} cloud resources; up from empty ${upFromEmptyMs} ms, no-op up ${noopMs} ms`,
      );

      run.editSpec(c.turn);
      const rec = stepRecorder();
      const turned = await stack.up({ onEvent: rec.onEvent });
      assert.ok(rec.steps.length > 0, "the knob changes something");
      const unexpected = rec.steps.filter((s) => !c.expected.test(s));
      assert.deepEqual(unexpected, [], `only the expected resources change (saw ${rec.steps.join(", ")})`);
      console.log(
        `      ${c.site}: ${c.knob} → ${JSON.stringify(changes(turned.summary))}: ${[...new Set(rec.steps)].join(", ")}`,
      );

      c.check?.(sbx);

      const deployed = (await stack.stack.exportStack()).deployment.resources as Array<{
        protect?: boolean;
        retainOnDelete?: boolean;
        type: string;
        id?: string;
      }>;
      const protectedCount = deployed.filter((r) => r.protect).length;
      // Retained, unprotected resources (Insync's live droplets) are forgotten, not deleted, by the
      // destroy that protection then refuses: only those may be left in the cloud at the end.
      const retainedOnly = new Set(
        deployed.filter((r) => r.retainOnDelete && !r.protect).map((r) => `${r.type}::${r.id}`),
      );
      if (protectedCount > 0) {
        await assert.rejects(stack.destroy(), /protected/);
        assert.ok(!sbx.cloud.isEmpty());
        await unprotectAll(stack);
      }
      // Provider-side protection (hcloud deleteProtection) refuses too, until switched off in the "console".
      sbx.cloud.disableDeleteProtection();
      await stack.destroy();
      const left = sbx.cloud.list().map((r) => `${r.type}::${r.id}`);
      assert.deepEqual(
        left.filter((r) => !retainedOnly.has(r)),
        [],
        "destroy leaves the simulated cloud empty but for what the stack retains on delete",
      );
    });
  });
}

/**
 * What an operator does on purpose before tearing a sandbox site down: `pulumi state unprotect --all`,
 * and dropping retainOnDelete (stateful resources would otherwise stay in the cloud after destroy).
 */
async function unprotectAll(stack: {
  stack: { exportStack(): Promise<any>; importStack(s: any): Promise<void> };
}) {
  const state = await stack.stack.exportStack();
  for (const r of state.deployment.resources) {
    delete r.protect;
    delete r.retainOnDelete;
  }
  await stack.stack.importStack(state);
}
