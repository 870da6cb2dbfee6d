import * as assert from "node:assert/strict";
import { Props, reveal, secret } from "../../src/sandbox/property-values";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";
import { copySiteProject, projectName, siteProgram, stepRecorder } from "./site-harness";

// DigitalOcean's own moves on the datafruits cluster, through the real engine in the sandbox: an
// autoUpgrade to a new patch release, which a refresh then reads back (the bridged provider returns
// the cluster's current settings as its inputs, as the sandbox's Read does from the record).

const CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster";

/** datafruits deployed from empty in the sandbox: its stack and the cluster's record in the cloud. */
async function deployDatafruits(sbx: Sandbox) {
  const run = copySiteProject(sbx, "datafruits");
  const stack = await sbx.open("datafruits", siteProgram(), {
    projectName: projectName(),
    workDir: run.workDir,
  });
  assert.equal((await stack.up()).summary.result, "succeeded");
  return { stack, rec: sbx.cloud.byName(CLUSTER, "datafruits")! };
}

describe("sandbox datafruits cluster", function () {
  this.timeout(300_000);
  let sbx: Sandbox;
  before(async () => {
    sbx = await createSandbox("site-datafruits-cluster");
  });
  after(() => sbx?.cleanup());

  it("keeps the cluster through DigitalOcean's patch upgrade: the next up neither downgrades nor replaces it", async () => {
    const { stack, rec } = await deployDatafruits(sbx);
    const pinned = rec.inputs.version;
    const patched = "1.33.9-do.0";
    assert.notEqual(pinned, patched);
    // autoUpgrade: DigitalOcean moved the cluster to the next patch in its maintenance window.
    sbx.cloud.store.mutate(CLUSTER, rec.id, (r) => {
      r.inputs.version = patched;
      r.outputs.version = patched;
    });
    await stack.refresh();
    const rec2 = stepRecorder();
    const next = await stack.up({ onEvent: rec2.onEvent });
    assert.deepEqual(
      rec2.steps.filter((s) => s.endsWith(CLUSTER)),
      [],
      `the cluster is touched: ${JSON.stringify(changes(next.summary))}`,
    );
    assert.equal(sbx.cloud.get(CLUSTER, rec.id)?.outputs.version, patched, "the patch release stays");
  });
});

describe("sandbox datafruits cluster credentials", function () {
  this.timeout(300_000);
  let sbx: Sandbox;
  before(async () => {
    sbx = await createSandbox("site-datafruits-creds");
  });
  after(() => sbx?.cleanup());

  it("hands the Kubernetes provider the credentials DigitalOcean issues now, not the week-old ones in state", async () => {
    const { stack, rec } = await deployDatafruits(sbx);
    // A week on: the token in state has expired and DigitalOcean answers a read with a new one.
    const fresh = "stackyard-sandbox-0123456789abcdef0123456789abcdef01234567";
    sbx.cloud.store.mutate(CLUSTER, rec.id, (r) => {
      const [kc] = reveal(r.outputs.kubeConfigs) as Props[];
      const raw = String(kc!.rawConfig).replace(/token: .*/, `token: ${fresh}`);
      r.outputs.kubeConfigs = secret([{ ...kc, rawConfig: raw, token: fresh }]);
    });
    const steps = stepRecorder();
    const next = await stack.up({ onEvent: steps.onEvent });
    assert.equal(next.summary.result, "succeeded");
    const state = (await stack.stack.exportStack()).deployment;
    const doks = state.resources.find((r: any) => r.type === "pulumi:providers:kubernetes");
    assert.ok(JSON.stringify(doks.inputs).includes(fresh), "the provider still holds the expired token");
    // A new token is new credentials, not a new cluster: no Kubernetes object is replaced.
    assert.deepEqual(
      steps.steps.filter((s) => /^(replace|create-replacement|delete-replaced)/.test(s)),
      [],
      JSON.stringify(changes(next.summary)),
    );
  });
});
