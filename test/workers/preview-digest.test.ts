import * as assert from "node:assert/strict";
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { Ledger } from "../../src/operations/ledger";
import { EngineEventRecorder } from "../../src/workers/engine-events";
import { previewDigest } from "../../src/workers/blast-radius-watch";
import { createSandbox, type Sandbox } from "../sandbox/sandbox-harness";

/** What an approval binds, on the real engine's preview events (sandbox cloud). */
describe("the approval's preview digest (real engine, sandbox)", function () {
  this.timeout(300_000);
  let sbx: Sandbox;
  before(async () => (sbx = await createSandbox("preview-digest")));
  after(() => sbx?.cleanup());

  // Records events only; the ledger's event log is not what this test looks at.
  const events = { event: async () => undefined } as unknown as Ledger;

  it("changes when a step's value changes in place (same op, same resource), or the params change; not between identical previews", async () => {
    let size = "s-1vcpu-1gb";
    const program = async () => {
      new digitalocean.Droplet("web-0", {
        region: "nyc3",
        size,
        image: "ubuntu-24-04-x64",
        tags: ["site:digest"],
        userData: pulumi.secret("hunter2-user-data"),
      });
    };
    const session = await sbx.open("digest", program);
    assert.equal((await session.up()).summary.result, "succeeded");
    const preview = async (s: string) => {
      size = s;
      const rec = new EngineEventRecorder(events, "op-digest", "preview", ["hunter2-user-data"]);
      await session.preview({ onEvent: rec.onEvent });
      await rec.flush();
      return rec;
    };
    const a = await preview("s-2vcpu-2gb");
    const again = await preview("s-2vcpu-2gb");
    const b = await preview("s-4vcpu-8gb");
    assert.ok(a.steps.length > 0);
    assert.deepEqual(b.steps, a.steps, "the same steps on the same resources: only a value differs");
    const params = { count: 3 };
    assert.equal(previewDigest(again, params), previewDigest(a, params), "stable across identical previews");
    assert.notEqual(previewDigest(b, params), previewDigest(a, params), "an in-place value change passed");
    assert.notEqual(previewDigest(a, { count: 9 }), previewDigest(a, params), "a params change passed");
    // Only hashes are kept: no value (let alone the secret) is in what the recorder holds.
    assert.ok(!JSON.stringify(a.stepValues).includes("s-2vcpu-2gb"));
    assert.ok(a.stepValues.every((h) => /^[0-9a-f]{64}$/.test(h)));
  });
});
