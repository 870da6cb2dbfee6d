import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../../src/infra/paths";
import { programFromStackConfig } from "../../src/programs/program";
import { loadStackFile } from "../../src/programs/site-config";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { createLogger } from "../../src/infra/observability/logger";
import { bootstrapSandboxSites } from "../../src/service/sandbox-bootstrap";
import { prepareSandboxWorkspace } from "../../src/service/sandbox-workspace";
import { tempDir } from "../support/temp-dir";

describe("the sandbox's own workspace and its first bring-up", function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  const workspace = () => path.join(tmp.dir, "sandbox-workspace");

  before(() => (tmp = tempDir("sandbox-workspace")));
  after(() => tmp?.remove());

  it("copies Pulumi.yaml and stacks/ into a git repository of its own, once, pointing main at the checkout's build", () => {
    assert.equal(prepareSandboxWorkspace(workspace(), projectRoot), true);
    const project = fs.readFileSync(path.join(workspace(), "Pulumi.yaml"), "utf8");
    assert.match(project, new RegExp(`^main: ${path.join(projectRoot, "dist/src/programs/main.js")}$`, "m"));
    assert.deepEqual(
      fs.readdirSync(path.join(workspace(), "stacks")).sort(),
      fs.readdirSync(path.join(projectRoot, "stacks")).sort(),
    );
    const log = execFileSync("git", ["log", "--oneline"], { cwd: workspace(), encoding: "utf8" });
    assert.match(log, /sandbox workspace: stack files as checked out/);
    assert.equal(
      prepareSandboxWorkspace(workspace(), projectRoot),
      false,
      "a second start keeps the rehearsal's history",
    );
  });

  it("brings a never-deployed site up once from its stack file, and leaves it alone afterwards", async () => {
    const home = path.join(tmp.dir, "home");
    await installSandboxPlugins(home);
    const cloudDir = path.join(tmp.dir, "cloud");
    fs.mkdirSync(cloudDir);
    const lines: string[] = [];
    const deps = {
      sites: ["vulpine"],
      workspaceDir: workspace(),
      projectName: "stackyard",
      program: programFromStackConfig,
      engine: () => ({
        stateDir: path.join(tmp.dir, "state"),
        passphrase: "bootstrap-test",
        pulumiHome: home,
        env: { STACKYARD_SANDBOX_DIR: cloudDir },
        seedSecretConfig: sandboxSiteCredentials("vulpine"),
      }),
      logger: createLogger({ level: "info", secrets: [], base: {}, write: (l: string) => lines.push(l) }),
    };
    assert.deepEqual(await bootstrapSandboxSites(deps), ["vulpine"]);
    const cloud = new SandboxCloud(cloudDir);
    assert.equal(
      cloud.list("linode:index/instance:Instance", "vulpine").length,
      1,
      "smithwicks exists in the simulated account",
    );
    assert.ok(lines.some((l) => /sandbox site brought up from its stack file/.test(l)));
    assert.deepEqual(await bootstrapSandboxSites(deps), [], "a deployed site is not brought up again");
    // The site's (sandbox) account credentials were set as an operator sets them: encrypted in the stack file.
    const stackFile = fs.readFileSync(path.join(workspace(), "stacks", "Pulumi.vulpine.yaml"), "utf8");
    const doc = parse(stackFile) as { config: Record<string, Record<string, unknown>> };
    for (const cloud of ["linode", "aws"])
      for (const v of Object.values(doc.config[`credentials:${cloud}`]!))
        assert.match((v as { secure: string }).secure, /^v1:/, `credentials:${cloud} is ciphertext`);
    for (const fields of Object.values(sandboxSiteCredentials("vulpine")))
      for (const value of Object.values(fields))
        assert.ok(!stackFile.includes(value), "no plaintext credential");
    assert.equal(
      loadStackFile(path.join(workspace(), "stacks", "Pulumi.vulpine.yaml")).configRevision,
      0,
      "the world, not an operation: no revision",
    );
  });
});
