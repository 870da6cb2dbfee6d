import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as digitalocean from "@pulumi/digitalocean";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { assertLiveHome, configFailures, ModeGuardError } from "../../src/sandbox/mode-guard";
import { sdkPluginVersion } from "../../src/sandbox/resource-specs";
import { tempDir } from "../support/temp-dir";
import { createSandbox } from "./sandbox-harness";

describe("sandbox mode guard", () => {
  it("installs each plugin at the exact name and version its SDK asks for, idempotently", async () => {
    const t = tempDir("home");
    try {
      await installSandboxPlugins(t.dir);
      await installSandboxPlugins(t.dir);
      for (const pkg of ["digitalocean", "linode", "hcloud", "aws", "kubernetes"] as const) {
        const { name, version } = sdkPluginVersion(pkg);
        const file = path.join(t.dir, "plugins", `resource-${name}-v${version}`, `pulumi-resource-${name}`);
        assert.ok(fs.statSync(file).mode & 0o111, `${file} is executable`);
      }
      assert.ok(fs.existsSync(path.join(t.dir, "stackyard-sandbox.json")));
    } finally {
      t.remove();
    }
  });

  it("refuses a live run whose PULUMI_HOME holds the sandbox marker or a sandbox plugin", async () => {
    const t = tempDir("live");
    try {
      assert.doesNotThrow(() => assertLiveHome(t.dir));
      await installSandboxPlugins(t.dir);
      assert.throws(() => assertLiveHome(t.dir), ModeGuardError);
      fs.rmSync(path.join(t.dir, "stackyard-sandbox.json"));
      assert.throws(() => assertLiveHome(t.dir), /is a sandbox plugin/);
    } finally {
      t.remove();
    }
  });

  it("refuses real-looking credentials and endpoints of real deployments in provider config", () => {
    assert.deepEqual(
      configFailures("digitalocean", { token: "sandbox", apiEndpoint: "https://api.digitalocean.com" }),
      [],
    );
    assert.equal(configFailures("digitalocean", { token: `dop_v1_${"a".repeat(64)}` }).length, 1);
    assert.equal(configFailures("digitalocean", { apiEndpoint: "https://do-proxy.corp.example" }).length, 1);
    assert.deepEqual(
      configFailures("aws", { endpoints: [{ s3: "https://s3.us-west-001.backblazeb2.com" }] }),
      [],
    );
    assert.equal(configFailures("aws", { endpoints: [{ s3: "https://minio.internal.example" }] }).length, 1);
    assert.equal(configFailures("aws", { accessKey: "AKIAIOSFODNN7EXAMPLE" }).length, 1);
    assert.equal(configFailures("kubernetes", { kubeconfig: "/home/me/.kube/config" }).length, 1);
    assert.deepEqual(
      configFailures("kubernetes", {
        kubeconfig: "apiVersion: v1\nusers:\n- user:\n    token: stackyard-sandbox-abc\n",
      }),
      [],
    );
  });

  it("never hands a cloud token in the engine's environment to a plugin: the engine blanks it", async () => {
    const sbx = await createSandbox("guard");
    try {
      sbx.env.DIGITALOCEAN_TOKEN = `dop_v1_${"b".repeat(64)}`;
      const stack = await sbx.open("guard", async () => {
        new digitalocean.Vpc("net", { region: "nyc3" });
      });
      assert.equal((await stack.up()).summary.result, "succeeded");
      const configures = sbx.cloud.calls().filter((c) => c.method === "configure");
      assert.ok(configures.length > 0);
      for (const c of configures) assert.deepEqual(c.ambient, []);
    } finally {
      sbx.cleanup();
    }
  });

  it("makes the engine fail when a plugin's environment carries a real-looking token anyway (another launcher)", async () => {
    const sbx = await createSandbox("guard");
    try {
      const stack = await sbx.open("guard", async () => {
        new digitalocean.Vpc("net", { region: "nyc3" });
      });
      // Past engine-env.ts: as if the CLI were started by something that does not blank credentials.
      stack.stack.workspace.envVars.DIGITALOCEAN_TOKEN = `dop_v1_${"b".repeat(64)}`;
      await assert.rejects(stack.up(), /real credential/);
      assert.ok(sbx.cloud.isEmpty());
    } finally {
      sbx.cleanup();
    }
  });
});
