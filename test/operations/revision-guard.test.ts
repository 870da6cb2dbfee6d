import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  assertRevisionNotStale,
  assertConfigRevisionCurrent,
  deployedRevisionFromState,
} from "../../src/programs/revision-guard";
import { StackSession } from "../../src/engine/stack-session";
import { openFixtureStack } from "../support/fixture-stack";
import { tempDir } from "../support/temp-dir";

class Marker extends pulumi.ComponentResource {
  constructor(name: string) {
    super("stackyard:test:Marker", name, {});
    this.registerOutputs({});
  }
}

/** A program shaped like the site programs: read the revision, guard, then register and export it. */
async function guardedProgram() {
  const rev = Number(new pulumi.Config("stackyard").require("configRevision"));
  await assertConfigRevisionCurrent(rev);
  new Marker("marker");
  return { configRevision: rev };
}

describe("laptop guard: a stack file older than the deployed revision stops before any change", function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let session: StackSession;

  before(async () => {
    tmp = tempDir("guard");
    session = await openFixtureStack(
      tmp.dir,
      { projectName: "stackyard", stackName: "theatl", program: guardedProgram },
      "guard-test",
    );
  });
  after(() => tmp?.remove());

  it("passes on the first deployment and when the file is current or newer", async () => {
    await session.stack.setConfig("stackyard:configRevision", { value: "3" });
    assert.equal((await session.up()).summary.result, "succeeded");
    assert.equal(deployedRevisionFromState(await session.stack.exportStack()), 3);
    await session.stack.setConfig("stackyard:configRevision", { value: "4" });
    assert.equal((await session.up()).summary.result, "succeeded");
  });

  it("refuses revision 2 when 4 is deployed, says what to do, and changes nothing", async () => {
    const before = await session.stack.exportStack();
    await session.stack.setConfig("stackyard:configRevision", { value: "2" });
    await assert.rejects(
      session.up(),
      /config revision 2 but revision 4 is deployed\. Pull the latest stack files \(git pull\)/,
    );
    const after = await session.stack.exportStack();
    assert.equal(deployedRevisionFromState(after), 4);
    assert.equal(after.deployment.resources.length, before.deployment.resources.length);
    assert.deepEqual(await session.pendingOperations(), []);
  });

  it("has a pure form the service uses before planning", () => {
    assert.throws(() => assertRevisionNotStale("theatl", 1, 2), { name: "StaleConfigRevisionError" });
    assert.doesNotThrow(() => assertRevisionNotStale("theatl", 2, 2));
    assert.doesNotThrow(() => assertRevisionNotStale("theatl", 0, undefined));
  });
});
