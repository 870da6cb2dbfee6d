import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as digitalocean from "@pulumi/digitalocean";
import { recoverStack } from "../../src/engine/recovery";
import { fileBackend } from "../../src/engine/state-backend";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { changes, createSandbox, type Sandbox } from "../sandbox/sandbox-harness";

/**
 * A CLI killed between the cloud's create and the engine's record leaves a pending create for a
 * resource that exists. When the cloud names its id, recovery adopts it: the retry neither creates
 * it twice nor loses it. When the cloud can't say, recovery refuses and names the URN.
 */
describe("recovery of an interrupted create (real engine, sandbox)", function () {
  this.timeout(300_000);
  let sbx: Sandbox;

  before(async () => (sbx = await createSandbox("adopt")));
  after(() => sbx?.cleanup());

  const program = async () => {
    new digitalocean.Droplet("web-0", {
      region: "nyc3",
      size: "s-1vcpu-1gb",
      image: "ubuntu-24-04-x64",
      tags: ["site:adopt"],
    });
  };

  /**
   * Rewrites the checkpoint as a SIGKILLed CLI leaves it: web-0 created in the cloud, only pending in
   * the state. Written in the file backend directly: `pulumi stack import` would drop pending operations.
   */
  function interruptedCreate(): { urn: string; id: string } {
    const file = path.join(sbx.root, "state", ".pulumi", "stacks", "sbxtest", "adopt.json");
    const checkpoint = JSON.parse(fs.readFileSync(file, "utf8"));
    const d = checkpoint.checkpoint.latest as {
      resources: Array<Record<string, any>>;
      pending_operations?: unknown[];
    };
    const i = d.resources.findIndex((r) => r.type === "digitalocean:index/droplet:Droplet");
    const [web] = d.resources.splice(i, 1);
    const { id, outputs: _outputs, ...pending } = web!;
    d.pending_operations = [{ type: "creating", resource: pending }];
    fs.writeFileSync(file, JSON.stringify(checkpoint));
    return { urn: web!.urn, id };
  }

  const options = (
    session: Awaited<ReturnType<Sandbox["open"]>>,
    verdict: (urn: string) => any,
    steps: string[],
  ) => ({
    session,
    backend: fileBackend(path.join(sbx.root, "state")),
    projectName: "sbxtest",
    stackName: "adopt",
    liveLockWaitMs: 1_000,
    foreignLockStaleMs: 3_600_000,
    inspectPendingCreate: verdict,
    record: async (step: string) => void steps.push(step),
  });

  it("adopts a create the cloud confirms, and the next update creates nothing", async () => {
    const session = await sbx.open("adopt", program);
    assert.equal((await session.up()).summary.result, "succeeded");
    const { urn, id } = interruptedCreate();
    assert.equal((await session.pendingOperations()).length, 1);

    const steps: string[] = [];
    await recoverStack(
      options(session, (u) => (u === urn ? { state: "present", id } : { state: "unknown" }), steps),
    );

    assert.deepEqual(steps, ["pending-creates-adopted"]);
    assert.deepEqual(await session.pendingOperations(), []);
    const state = await session.stack.exportStack();
    const adopted = (
      state.deployment.resources as Array<{ urn: string; id: string; outputs: Record<string, unknown> }>
    ).find((r) => r.urn === urn);
    assert.equal(adopted?.id, id);
    assert.ok(adopted?.outputs.ipv4Address, "the refresh read the droplet's outputs from the cloud");
    const next = await session.up();
    assert.deepEqual(changes(next.summary), {}, "nothing created twice");
    assert.equal(sbx.cloud.list(TYPES.droplet, "adopt").length, 1);
  });

  it("refuses, naming the URN, when the cloud cannot say", async () => {
    const session = await sbx.open("adopt", program);
    const { urn } = interruptedCreate();
    const steps: string[] = [];
    await assert.rejects(
      recoverStack(options(session, () => ({ state: "unknown" }), steps)),
      (err: Error) => {
        assert.match(
          err.message,
          new RegExp(
            `interrupted create\\(s\\) that may exist in the cloud: ${urn.replace(/[$]/g, "\\$")} \\(unknown\\)`,
          ),
        );
        return true;
      },
    );
    assert.equal(
      (await session.pendingOperations()).length,
      1,
      "the state is left for the operator, unchanged",
    );
  });
});
