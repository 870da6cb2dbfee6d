import * as assert from "node:assert/strict";
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { BlastRadiusWatch } from "../../src/workers/blast-radius-watch";
import { createSandbox, type Sandbox } from "../sandbox/sandbox-harness";

/**
 * The live half of the blast-radius check: during `up`, the first step outside what the operation
 * declared aborts the engine run, and steps still waiting behind it never start.
 */
describe("blast radius during up (real engine, sandbox)", function () {
  this.timeout(300_000);
  let sbx: Sandbox;

  before(async () => (sbx = await createSandbox("blast-watch")));
  after(() => sbx?.cleanup());

  it("stops the update at the first step outside the declaration; later steps never run", async () => {
    // The site as deployed: web-0. The operation's update then adds, in this order, a database
    // cluster (not declared) and web-1 … web-3 (declared), each waiting on the one before.
    let grown = false;
    const program = async () => {
      const tags = ["site:blast", "role:web"];
      let prev: pulumi.Resource = new digitalocean.Droplet("web-0", {
        region: "nyc3",
        size: "s-1vcpu-1gb",
        image: "ubuntu-24-04-x64",
        tags,
      });
      if (!grown) return;
      prev = new digitalocean.DatabaseCluster(
        "surprise-db",
        { engine: "pg", version: "16", size: "db-s-1vcpu-1gb", region: "nyc3", nodeCount: 1 },
        { dependsOn: [prev] },
      );
      for (let i = 1; i <= 3; i++) {
        prev = new digitalocean.Droplet(
          `web-${i}`,
          { region: "nyc3", size: "s-1vcpu-1gb", image: "ubuntu-24-04-x64", tags },
          { dependsOn: [prev] },
        );
      }
    };
    const session = await sbx.open("blast", program);
    assert.equal((await session.up()).summary.result, "succeeded");
    grown = true;
    sbx.cloud.setFaults({ latencyMs: 1500 });
    const watch = new BlastRadiusWatch([{ ops: ["create"], types: ["digitalocean:index/droplet:Droplet"] }]);

    await assert.rejects(session.up({ onEvent: watch.onEvent, signal: watch.signal }));

    assert.equal(
      watch.tripped?.type,
      "digitalocean:index/databaseCluster:DatabaseCluster",
      `tripped on ${JSON.stringify(watch.tripped)}`,
    );
    assert.equal(watch.tripped?.op, "create");
    const droplets = sbx.cloud.list(TYPES.droplet, "blast").map((r) => String(r.inputs.name ?? r.urn));
    assert.equal(droplets.length, 1, `only web-0 exists, got ${droplets.join(", ")}`);
    assert.deepEqual(await session.pendingOperations(), [], "the engine stopped at a safe point");
  });
});
