import * as assert from "node:assert/strict";
import * as digitalocean from "@pulumi/digitalocean";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";

describe("sandbox smoke", () => {
  let sbx: Sandbox;
  before(async () => (sbx = await createSandbox("smoke")));
  after(() => sbx?.cleanup());

  it("creates a droplet through the real engine", async () => {
    const stack = await sbx.open("smoke", async () => {
      const vpc = new digitalocean.Vpc("net", { region: "nyc3", ipRange: "10.10.0.0/20" });
      const d = new digitalocean.Droplet("web", { region: "nyc3", size: "s-1vcpu-1gb", image: "ubuntu-24-04-x64", vpcUuid: vpc.id, tags: ["role:web"] });
      return { ip: d.ipv4Address, priv: d.ipv4AddressPrivate };
    });
    const up = await stack.up();
    console.log(up.summary.resourceChanges, up.outputs);
    assert.equal(sbx.cloud.list().length, 2);
    const again = await stack.up();
    assert.deepEqual(changes(again.summary), {});
  });
});
