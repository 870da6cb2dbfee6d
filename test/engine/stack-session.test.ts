import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { EngineEvent } from "@pulumi/pulumi/automation";
import { StackSession } from "../../src/engine/stack-session";
import { openFixtureStack } from "../support/fixture-stack";
import { tempDir } from "../support/temp-dir";

/** A component with no provider: exercises the engine's registration, diff and state without any plugin. */
class Greeting extends pulumi.ComponentResource {
  readonly text: pulumi.Output<string>;
  constructor(name: string, args: { text: string }, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:test:Greeting", name, args, opts);
    this.text = pulumi.output(args.text);
    this.registerOutputs({ text: this.text });
  }
}

function greetingProgram() {
  const config = new pulumi.Config("fixture");
  const greeting = new Greeting("hello", { text: `hello ${config.require("who")}` });
  return Promise.resolve({ text: greeting.text, tokenEcho: config.getSecret("token") });
}

describe("StackSession through the real CLI and the file backend", function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let session: StackSession;

  before(async () => {
    tmp = tempDir("engine");
    session = await openFixtureStack(
      tmp.dir,
      { projectName: "fixture", stackName: "dev", program: greetingProgram },
      "fixture-passphrase",
    );
  });

  after(() => tmp?.remove());

  it("creates, reads outputs, sees a config change as an update, and destroys", async () => {
    await session.stack.setConfig("fixture:who", { value: "vulpine" });
    const events: EngineEvent[] = [];
    const first = await session.up({ onEvent: (e) => events.push(e) });
    assert.equal(first.summary.result, "succeeded");
    assert.equal(first.outputs.text.value, "hello vulpine");
    assert.equal(first.summary.resourceChanges?.create, 2, "stack + component created");
    assert.ok(events.some((e) => e.resourcePreEvent?.metadata.type === "stackyard:test:Greeting"));
    assert.ok(
      events.some((e) => e.summaryEvent !== undefined),
      "the engine streamed a summary event",
    );

    const noop = await session.up();
    assert.deepEqual(noop.summary.resourceChanges, { same: 2 });

    await session.stack.setConfig("fixture:who", { value: "chitter" });
    const second = await session.up();
    assert.equal(second.outputs.text.value, "hello chitter");
    assert.equal(second.summary.resourceChanges?.update, 1, "the component's inputs changed");

    const destroyed = await session.destroy();
    assert.equal(destroyed.summary.result, "succeeded");
    assert.equal(destroyed.summary.resourceChanges?.delete, 2);
    assert.deepEqual(await session.outputs(), {});
  });

  it("an up's outcome comes from its own events, equal to what the CLI reads back, with no CLI read", async () => {
    await session.stack.setConfig("fixture:who", { value: "insync" });
    await session.stack.setConfig("fixture:token", { value: "insync-canary-91ab", secret: true });
    const reads = { outputs: 0, history: 0 };
    const ws = session.stack.workspace;
    const stackOutputs = ws.stackOutputs.bind(ws);
    const history = session.stack.history.bind(session.stack);
    ws.stackOutputs = (name) => (reads.outputs++, stackOutputs(name));
    session.stack.history = (...a) => (reads.history++, history(...a));
    try {
      for (const who of ["insync", "datafruits", "datafruits"]) {
        await session.stack.setConfig("fixture:who", { value: who });
        const before = { ...reads };
        const r = await session.up();
        assert.deepEqual(reads, before, "the up itself read nothing back through the CLI");
        const cli = await session.outputs();
        const info = await session.stack.info();
        assert.deepEqual(r.outputs.text, cli.text);
        assert.equal(r.outputs.tokenEcho.secret, true, "a secret output is known as secret");
        assert.notEqual(r.outputs.tokenEcho.value, "insync-canary-91ab", "and its value is not held");
        assert.equal(r.summary.result, info!.result);
        assert.deepEqual(r.summary.resourceChanges, info!.resourceChanges);
      }
    } finally {
      ws.stackOutputs = stackOutputs;
      session.stack.history = history;
      await session.destroy();
    }
  });

  it("shares one state export until the session changes the state", async () => {
    let exports = 0;
    const exportStack = session.stack.exportStack.bind(session.stack);
    session.stack.exportStack = () => (exports++, exportStack());
    try {
      await session.stack.setConfig("fixture:who", { value: "vulpine" });
      const resources = async () => ((await session.currentState()).deployment?.resources ?? []).length;
      const empty = await resources();
      assert.deepEqual(await session.pendingOperations(), []);
      assert.equal(await resources(), empty);
      assert.equal(exports, 1, "recovery's and the plan's reads are one export");
      await session.up();
      assert.equal(
        await resources(),
        empty + 2,
        "after an up, the state is read again and holds its resources",
      );
      assert.equal(exports, 2);
      await session.destroy();
      assert.equal(await resources(), 0, "after a destroy too");
      assert.equal(exports, 3);
    } finally {
      session.stack.exportStack = exportStack;
    }
  });

  it("keeps secret config encrypted in the stack file and state", async () => {
    await session.stack.setConfig("fixture:token", { value: "theatl-canary-7d1f", secret: true });
    const result = await session.up();
    assert.equal(result.outputs.tokenEcho.secret, true);
    const stackFile = fs.readFileSync(
      path.join(session.stack.workspace.workDir, "stacks", "Pulumi.dev.yaml"),
      "utf8",
    );
    assert.ok(!stackFile.includes("theatl-canary-7d1f"), "stack file holds ciphertext only");
    const stateFile = path.join(tmp.dir, "state", ".pulumi", "stacks", "fixture", "dev.json");
    const state = fs.readFileSync(stateFile, "utf8");
    assert.ok(state.includes("ciphertext"), "the secret output is stored encrypted");
    assert.ok(!state.includes("theatl-canary-7d1f"), "state on disk holds ciphertext only");
    assert.deepEqual(await session.pendingOperations(), []);
    await session.destroy();
  });
});
