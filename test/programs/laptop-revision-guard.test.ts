import * as assert from "node:assert/strict";
import { LaptopCheckout, laptopCheckout } from "../support/laptop-checkout";

/**
 * `pulumi up` from a laptop whose stacks/ file is older than what was deployed must stop before
 * any change (DESIGN.md §4): it would otherwise undo operations the service applied.
 */
describe("laptop guard against a stale config revision", function () {
  this.timeout(300_000);
  let laptop: LaptopCheckout;
  const revision = (n: number) => laptop.setStackValue("vulpine", ["stackyard:configRevision"], n);

  before(async () => {
    laptop = await laptopCheckout("revision-guard");
    const init = laptop.initSite("vulpine");
    assert.equal(init.code, 0, init.out);
  });

  after(() => laptop?.remove());

  it("deploys revision 2, then refuses revision 1 with no change, then accepts revision 2 again", () => {
    revision(2);
    const first = laptop.pulumi("up", "--yes", "-s", "vulpine");
    assert.equal(first.code, 0, first.out);
    const callsAfterDeploy = laptop.cloud
      .calls()
      .filter((c) => ["create", "update", "delete"].includes(c.method)).length;
    assert.ok(callsAfterDeploy > 0);

    revision(2);
    const t0 = Date.now();
    const passing = laptop.pulumi("preview", "-s", "vulpine", "--expect-no-changes");
    const passingMs = Date.now() - t0;
    assert.equal(passing.code, 0, passing.out);

    revision(1);
    const t1 = Date.now();
    const stale = laptop.pulumi("up", "--yes", "-s", "vulpine");
    const refusedMs = Date.now() - t1;
    assert.notEqual(stale.code, 0);
    // Pulumi's own message-only error: no stack trace through the SDK.
    assert.doesNotMatch(stale.out, /^\s+at .*\(.*:\d+:\d+\)$/m, stale.out);
    assert.doesNotMatch(stale.out, /unhandled exception|RunError|node_modules|\.js:\d+/, stale.out);
    console.log(`      refused in ${refusedMs} ms (a passing preview: ${passingMs} ms)`);
    assert.match(
      stale.out,
      /stacks\/Pulumi\.vulpine\.yaml is at config revision 1 but revision 2 is deployed/,
    );
    assert.match(stale.out, /git pull/);
    const writes = laptop.cloud
      .calls()
      .filter((c) => ["create", "update", "delete"].includes(c.method)).length;
    assert.equal(writes, callsAfterDeploy, "the simulated cloud saw no write");

    revision(2);
    const current = laptop.pulumi("preview", "-s", "vulpine", "--expect-no-changes");
    assert.equal(current.code, 0, current.out);
  });
});
