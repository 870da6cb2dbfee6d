import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { isJavaScriptPack } from "../../src/engine/language-host/javascript-pack";
import { StackSession } from "../../src/engine/stack-session";
import { openFixtureStack } from "../support/fixture-stack";
import { tempDir } from "../support/temp-dir";

const checkout = path.resolve(__dirname, "..", "..", "..");

/**
 * A JavaScript policy pack whose one mandatory stack policy reports what its own process loaded
 * of TypeScript and ts-node: the analyzer's start-up, observed from inside it.
 */
function writeProbePack(dir: string, withTsconfig: boolean): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(path.join(checkout, "node_modules"), path.join(dir, "node_modules"));
  fs.writeFileSync(path.join(dir, "PulumiPolicy.yaml"), "runtime: nodejs\n");
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "probe-pack", version: "0.0.1", main: "index.js" }),
  );
  if (withTsconfig) fs.writeFileSync(path.join(dir, "tsconfig.json"), "{}\n");
  fs.writeFileSync(
    path.join(dir, "index.js"),
    `const { PolicyPack } = require("@pulumi/policy");
new PolicyPack("probe", {
  policies: [{
    name: "start-up-loads-no-typescript",
    description: "the analyzer loaded neither TypeScript nor ts-node",
    enforcementLevel: "mandatory",
    validateStack: (_args, report) => {
      const loaded = Object.keys(require.cache).filter((f) => /[\\\\/](typescript|ts-node)[\\\\/]/.test(f));
      if (loaded.length > 0) report("loaded " + loaded.length + " TypeScript modules");
    },
  }],
});
`,
  );
}

describe("policy packs start through the language host's analyzer entry", function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let session: StackSession;

  before(async () => {
    tmp = tempDir("pack-runner");
    session = await openFixtureStack(
      tmp.dir,
      {
        projectName: "packs",
        stackName: "dev",
        program: async () => {
          new pulumi.ComponentResource("stackyard:test:Probe", "probe", {});
          return {};
        },
      },
      "pp",
    );
  });

  after(() => tmp?.remove());

  it("tells a JavaScript pack from one that needs TypeScript", () => {
    const js = path.join(tmp.dir, "js-pack");
    writeProbePack(js, false);
    assert.equal(isJavaScriptPack(js), true);
    assert.equal(isJavaScriptPack(path.join(checkout, "policy-pack")), true, "the service's own pack");
    const ts = path.join(tmp.dir, "ts-pack");
    writeProbePack(ts, true);
    assert.equal(isJavaScriptPack(ts), false, "a tsconfig.json means TypeScript");
    const tsMain = path.join(tmp.dir, "ts-main");
    fs.mkdirSync(tsMain);
    fs.writeFileSync(path.join(tsMain, "package.json"), JSON.stringify({ main: "index.ts" }));
    fs.writeFileSync(path.join(tsMain, "index.ts"), "");
    assert.equal(isJavaScriptPack(tsMain), false, "a .ts entry");
    assert.equal(isJavaScriptPack(path.join(tmp.dir, "nowhere")), false);
  });

  it("a JavaScript pack runs without TypeScript loaded; one with a tsconfig gets the SDK's runner, which loads it", async () => {
    const preview = await session.preview({ policyPacks: [path.join(tmp.dir, "js-pack")] });
    assert.equal(preview.changeSummary.create, 2, "the pack ran and passed the preview");
    const withTs = await session.preview({ policyPacks: [path.join(tmp.dir, "ts-pack")] }).then(
      () => "passed",
      (err: Error) => err.message,
    );
    assert.match(withTs, /start-up-loads-no-typescript/);
    assert.match(withTs, /loaded \d+ TypeScript modules/);
  });
});
