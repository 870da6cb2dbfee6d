import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { engineEnv } from "../../src/engine/engine-env";
import { engineBinDir, projectRoot } from "../../src/infra/paths";
import { tempDir } from "../support/temp-dir";

/** The laptop path: `pulumi up` on a Pulumi.yaml, which needs the language host beside the CLI. */
describe("pulumi CLI on a Pulumi.yaml project (the laptop path)", function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let pulumi: (...args: string[]) => string;

  before(() => {
    tmp = tempDir("laptop");
    const project = path.join(tmp.dir, "project");
    fs.mkdirSync(project);
    fs.symlinkSync(path.join(projectRoot, "node_modules"), path.join(project, "node_modules"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: laptop\nruntime: nodejs\nmain: index.js\n");
    fs.writeFileSync(path.join(project, "package.json"), '{"name":"laptop-fixture","private":true}\n');
    fs.writeFileSync(
      path.join(project, "index.js"),
      [
        'const pulumi = require("@pulumi/pulumi");',
        "class Site extends pulumi.ComponentResource {",
        '  constructor(name, args) { super("stackyard:test:Site", name, args); this.registerOutputs({}); }',
        "}",
        "const config = new pulumi.Config();",
        'const workers = config.requireNumber("workers");',
        'new Site("site", { workers });',
        "exports.workers = workers;",
      ].join("\n"),
    );
    const env = {
      ...process.env,
      ...engineEnv({
        stateDir: path.join(tmp.dir, "state"),
        pulumiHome: path.join(tmp.dir, "home"),
        passphrase: "laptop-fixture",
      }),
    };
    fs.mkdirSync(path.join(tmp.dir, "state"));
    pulumi = (...args) =>
      execFileSync(path.join(engineBinDir(), "pulumi"), [...args, "--non-interactive"], {
        cwd: project,
        env,
        encoding: "utf8",
      });
  });

  after(() => tmp?.remove());

  it("prints the pinned version", () => {
    assert.equal(pulumi("version").trim(), "v3.248.0");
  });

  it("runs up, sees a config change as an update, and destroys", () => {
    pulumi("stack", "init", "dev");
    pulumi("config", "set", "workers", "2");
    assert.match(pulumi("up", "--yes"), /\+ 2 created/);
    assert.equal(pulumi("stack", "output", "workers").trim(), "2");
    pulumi("config", "set", "workers", "5");
    assert.match(pulumi("up", "--yes"), /~ 1 updated/);
    assert.equal(pulumi("stack", "output", "workers").trim(), "5");
    assert.match(pulumi("destroy", "--yes"), /- 2 deleted/);
  });
});
