import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { engineEnv } from "../../src/engine/engine-env";
import { engineBinDir, projectRoot } from "../../src/infra/paths";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { tempDir } from "../support/temp-dir";

const POLICY_PACK = path.join(projectRoot, "policy-pack");
const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"];

/**
 * An operator's laptop: `pulumi preview -s theatl --policy-pack policy-pack` on a copy of the
 * checkout's Pulumi.yaml and stacks/, with the sandbox's simulated providers.
 */
describe("policy pack on the laptop path", function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  let project: string;
  let env: NodeJS.ProcessEnv;

  const pulumi = (...args: string[]) => {
    const r = spawnSync(path.join(engineBinDir(), "pulumi"), [...args, "--non-interactive"], {
      cwd: project,
      env,
      encoding: "utf8",
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  before(async () => {
    tmp = tempDir("policy-laptop");
    project = path.join(tmp.dir, "checkout");
    fs.mkdirSync(project);
    fs.copyFileSync(path.join(projectRoot, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    fs.cpSync(path.join(projectRoot, "stacks"), path.join(project, "stacks"), { recursive: true });
    for (const linked of ["node_modules", "dist"]) {
      fs.symlinkSync(path.join(projectRoot, linked), path.join(project, linked));
    }
    const home = path.join(tmp.dir, "pulumi-home");
    await installSandboxPlugins(home);
    fs.mkdirSync(path.join(tmp.dir, "state"));
    fs.mkdirSync(path.join(tmp.dir, "cloud"));
    env = {
      ...process.env,
      ...engineEnv({
        stateDir: path.join(tmp.dir, "state"),
        pulumiHome: home,
        passphrase: "laptop-policy",
        env: { STACKYARD_SANDBOX_DIR: path.join(tmp.dir, "cloud") },
      }),
    };
    for (const site of SITES) {
      const init = pulumi("stack", "init", site);
      assert.equal(init.code, 0, init.out);
    }
  });

  after(() => tmp?.remove());

  for (const site of SITES) {
    it(`passes ${site}'s program as committed`, () => {
      const preview = pulumi("preview", "-s", site, "--policy-pack", POLICY_PACK);
      assert.equal(preview.code, 0, preview.out);
      assert.match(preview.out, /Policies:[\s\S]*stackyard@v0\.1\.0/);
    });
  }

  it("fails when the stack config opens PostgreSQL to the internet, naming the rule, value and limit", () => {
    const file = path.join(project, "stacks", "Pulumi.theatl.yaml");
    const doc = parseDocument(fs.readFileSync(file, "utf8"));
    doc.setIn(["config", "stackyard:spec", "postgres", "clientCidrs"], ["0.0.0.0/0"]);
    fs.writeFileSync(file, doc.toString());

    const preview = pulumi("preview", "-s", "theatl", "--policy-pack", POLICY_PACK);
    assert.notEqual(preview.code, 0);
    assert.match(preview.out, /data-plane-private-only/);
    assert.match(preview.out, /opens PostgreSQL port 5432 to 0\.0\.0\.0\/0 \(limit: private network only\)/);
  });
});
