import * as assert from "node:assert/strict";
import * as digitalocean from "@pulumi/digitalocean";
import { StackSession } from "../../src/engine/stack-session";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";

// One test per kind of fault, asserting what the engine reports, what the state holds (resources
// and pending operations) and what the simulated cloud holds afterwards.

const program = (count: number) => async () => {
  const vpc = new digitalocean.Vpc("net", { region: "nyc3", ipRange: "10.20.0.0/20" });
  for (let i = 0; i < count; i++) {
    new digitalocean.Droplet(`sidekiq-${i}`, {
      region: "nyc3",
      size: "s-1vcpu-1gb",
      image: "ubuntu-24-04-x64",
      vpcUuid: vpc.id,
      tags: ["role:sidekiq"],
    });
  }
};

async function stateResources(
  stack: StackSession,
): Promise<{ droplets: number; pending: Array<{ type: string; urn: string }> }> {
  const state = await stack.stack.exportStack();
  const resources = (state.deployment?.resources ?? []) as Array<{ type: string }>;
  const pending = (
    (state.deployment?.pending_operations ?? []) as Array<{ type: string; resource: { urn: string } }>
  ).map((p) => ({ type: p.type, urn: p.resource.urn }));
  return { droplets: resources.filter((r) => r.type === TYPES.droplet).length, pending };
}

describe("sandbox fault injection", function () {
  let sbx: Sandbox;
  beforeEach(async () => (sbx = await createSandbox("faults")));
  afterEach(() => sbx?.cleanup());

  it("adds the planned latency to every provider call", async () => {
    const stack = await sbx.open("latency", program(2));
    sbx.cloud.setFaults({ latencyMs: 400 });
    const started = Date.now();
    await stack.up();
    const ms = Date.now() - started;
    const creates = sbx.cloud.calls().filter((c) => c.method === "create" && c.phase === "end");
    assert.equal(creates.length, 3);
    // Every create took at least the planned latency; the VPC and the droplets run one after the other.
    assert.ok(
      creates.every((c) => (c.ms ?? 0) >= 400),
      JSON.stringify(creates.map((c) => c.ms)),
    );
    assert.ok(ms >= 800, `up took ${ms} ms`);
  });

  it("fails the Nth create of a type with the cloud's error, keeping what was created before it", async () => {
    const stack = await sbx.open("nth", program(3));
    sbx.cloud.setFaults({
      failNthCreate: {
        type: TYPES.droplet,
        n: 2,
        message: "422 Unprocessable Entity: droplet limit reached",
      },
    });
    await assert.rejects(stack.up(), /droplet limit reached/);
    const state = await stateResources(stack);
    // Droplets are created in parallel: the one that failed is in neither the state nor the cloud.
    assert.equal(state.droplets, 2);
    assert.deepEqual(state.pending, []);
    assert.equal(sbx.cloud.list(TYPES.droplet).length, 2);
    const faults = sbx.cloud.calls().filter((c) => c.phase === "fault");
    assert.equal(faults.length, 1);
    // Clearing the fault and running again converges.
    sbx.cloud.clearFaults();
    assert.deepEqual(changes((await stack.up()).summary), { create: 1 });
    assert.equal(sbx.cloud.list(TYPES.droplet).length, 3);
  });

  it("retries HTTP 429 answers inside the provider and succeeds when throttling ends", async () => {
    const stack = await sbx.open("throttle", program(1));
    sbx.cloud.setFaults({ throttle: { type: TYPES.droplet, times: 3 } });
    const up = await stack.up();
    assert.deepEqual(changes(up.summary), { create: 3 }); // the stack, the VPC and the droplet
    const throttled = sbx.cloud.calls().filter((c) => c.phase === "throttled");
    assert.equal(throttled.length, 3);
    assert.equal(sbx.cloud.list(TYPES.droplet).length, 1);
  });

  it("surfaces a persistent 429 to the engine as a failed create, with nothing leaked", async () => {
    const stack = await sbx.open("throttle-hard", program(1));
    sbx.cloud.setFaults({ throttle: { type: TYPES.droplet, times: 50 } });
    await assert.rejects(stack.up(), /429 Too Many Requests/);
    const state = await stateResources(stack);
    assert.equal(state.droplets, 0);
    assert.deepEqual(state.pending, []);
    assert.equal(sbx.cloud.list(TYPES.droplet).length, 0);
  });

  it("survives a plugin crash mid-create: the engine reports it, the cloud holds the leaked droplet", async () => {
    const stack = await sbx.open("crash", program(1));
    sbx.cloud.setFaults({ crashOnCreate: { type: TYPES.droplet } });
    await assert.rejects(stack.up(), (err: Error) => {
      const line =
        err.message.split("\n").find((l) => /error:/.test(l) && /Droplet|sidekiq/.test(l)) ?? err.message;
      console.log(`      engine reported: ${line.trim().slice(0, 200)}`);
      assert.match(err.message, /error reading from server|transport is closing|connection|unavailable|EOF/i);
      return true;
    });
    const state = await stateResources(stack);
    assert.equal(state.droplets, 0, "the engine never learned the droplet's id");
    // The cloud made the droplet before the plugin died: a leak that only a human or an import can resolve.
    const leaked = sbx.cloud.list(TYPES.droplet);
    assert.equal(leaked.length, 1);
    const log = sbx.cloud.calls().filter((c) => c.type === TYPES.droplet && c.method === "create");
    assert.deepEqual(
      log.map((c) => c.phase),
      ["start", "crash"],
    );
    assert.equal(log[1]!.id, leaked[0]!.id);
    // Pending operations the engine may leave are reported, not guessed: record them for the report.
    console.log(`      pending operations after plugin crash: ${JSON.stringify(state.pending)}`);
    // A fresh plugin process answers again; the next up creates a second droplet (the leak stays).
    sbx.cloud.clearFaults();
    await stack.refresh({ clearPendingCreates: true });
    assert.deepEqual(changes((await stack.up()).summary), { create: 1 });
    assert.equal(sbx.cloud.list(TYPES.droplet).length, 2);
  });
});
