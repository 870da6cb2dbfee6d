import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const dist = path.resolve(__dirname, "..", "..", "src");

/**
 * Runs `body` in a fresh Node process (this one loaded the whole SDK long ago) and returns what it
 * printed as JSON. `loaded(pattern)` inside it: whether any loaded module's path matches.
 */
async function inFreshNode(body: string): Promise<any> {
  const script = `
    const loaded = (re) => Object.keys(require.cache).some((f) => re.test(f));
    (async () => { ${body} })().then((out) => process.stdout.write(JSON.stringify(out)),
      (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });`;
  const { stdout } = await run(process.execPath, ["-e", script], { cwd: dist, maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

const HEAVY = String.raw`/node_modules\/(typescript|@npmcli\/arborist|pacote)\//`;

describe("SDK modules a plugin or the policy pack never uses load on first use", function () {
  this.timeout(60_000);

  it("without the deferral, the SDK's index loads TypeScript and npm's arborist (what is deferred is real)", async () => {
    const out = await inFreshNode(`require("@pulumi/pulumi"); return { heavy: loaded(${HEAVY}) };`);
    assert.equal(out.heavy, true);
  });

  it("a sandbox plugin's and the policy pack's modules load without them, and without any site program", async () => {
    const out = await inFreshNode(`
      require(${JSON.stringify(path.join(dist, "infra", "defer-sdk-closure"))});
      require(${JSON.stringify(path.join(dist, "sandbox", "plugin-server"))});
      require(${JSON.stringify(path.join(dist, "policy", "pack"))});
      return {
        heavy: loaded(${HEAVY}),
        automation: loaded(/@pulumi\\/pulumi\\/automation\\//),
        sitePrograms: Object.keys(require.cache).filter((f) => /dist\\/src\\/programs\\/(theatl|vulpine|chitter|insync|datafruits)\\/(?!policy-defaults\\.js$)/.test(f)).length,
        providerSdks: loaded(/node_modules\\/@pulumi\\/(aws|digitalocean|linode|hcloud|kubernetes)\\//),
      };`);
    assert.deepEqual(out, { heavy: false, automation: false, sitePrograms: 0, providerSdks: false });
  });

  it("a deferred module still works when used: closures serialize and the Automation API is whole", async () => {
    const out = await inFreshNode(`
      require(${JSON.stringify(path.join(dist, "infra", "defer-sdk-closure"))});
      const pulumi = require("@pulumi/pulumi");
      const before = loaded(${HEAVY});
      const text = (await pulumi.runtime.serializeFunction(() => 6 * 7)).text;
      const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: [] }).then(() => "ok", (e) => "failed: " + e.message);
      return {
        before,
        after: loaded(${HEAVY}),
        serialized: /6 \\* 7/.test(text),
        codePaths: paths,
        workspace: typeof pulumi.automation.LocalWorkspace.create,
        keys: Object.keys(pulumi.automation).includes("Stack"),
        has: "LocalWorkspace" in pulumi.automation,
      };`);
    assert.deepEqual(out, {
      before: false,
      after: true,
      serialized: true,
      codePaths: "ok",
      workspace: "function",
      keys: true,
      has: true,
    });
  });
});
