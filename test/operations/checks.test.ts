import * as assert from "node:assert/strict";
import { outsideBlastRadius } from "../../src/operations/blast-radius";
import { evaluateLiveChecks } from "../../src/operations/guards/live-checks";
import type { LiveFacts } from "../../src/operations/live-db-node";
import { DB_TOPOLOGY_TOUCHES } from "../../src/operations/db-touches";
import * as path from "node:path";
import { projectRoot } from "../workers/support/service-harness";
import { OPERATIONS } from "../../src/operations/registry";
import { StackFileStore } from "../../src/operations/stack-file-store";

const theatl = new StackFileStore(path.resolve(projectRoot)).load("theatl");

const facts = (
  nodes: Array<{
    name: string;
    role: "primary" | "standby";
    replicationLagSeconds: number;
    healthy: boolean;
  }>,
): LiveFacts => ({ dbNodes: async () => nodes });

describe("checks before up", () => {
  it("finds a preview step outside what the operation declared (blast radius)", () => {
    const steps = [
      { op: "create", type: "digitalocean:index/droplet:Droplet", urn: "u1" },
      { op: "delete", type: "digitalocean:index/volume:Volume", urn: "u2" },
      { op: "same", type: "digitalocean:index/vpc:Vpc", urn: "u3" },
    ];
    const touches = OPERATIONS["scale-sidekiq"].plan(theatl, { count: 3 }).touches;
    assert.deepEqual(outsideBlastRadius(steps, touches), [steps[1]]);
  });

  it("lets the laptop guard's StackReference come and go (no cloud holds it), but no other provider", () => {
    const steps = [
      { op: "discard", type: "pulumi:pulumi:StackReference", urn: "guard" },
      { op: "delete", type: "pulumi:providers:pulumi", urn: "pulumi-provider" },
      { op: "read", type: "pulumi:pulumi:StackReference", urn: "guard-again" },
      { op: "delete", type: "pulumi:providers:digitalocean", urn: "do-provider" },
    ];
    const touches = OPERATIONS["scale-sidekiq"].plan(theatl, { count: 3 }).touches;
    assert.deepEqual(
      outsideBlastRadius(steps, touches).map((s) => s.urn),
      ["do-provider"],
    );
  });

  it("never lets a failover replace or delete a database host", () => {
    const steps = [
      { op: "update", type: "digitalocean:index/droplet:Droplet", urn: "pg-a" },
      { op: "replace", type: "digitalocean:index/droplet:Droplet", urn: "pg-b" },
      { op: "delete", type: "digitalocean:index/volume:Volume", urn: "pg-b-data" },
    ];
    assert.deepEqual(
      outsideBlastRadius(steps, DB_TOPOLOGY_TOUCHES).map((s) => s.urn),
      ["pg-b", "pg-b-data"],
    );
  });

  it("refuses failover when standby lag exceeds 30 s, and allows it with acceptDataLoss", async () => {
    const f = facts([{ name: "pg-b", role: "standby", replicationLagSeconds: 45, healthy: true }]);
    const [r] = await evaluateLiveChecks(
      "theatl",
      [
        {
          kind: "standby-ready",
          node: "pg-b",
          maxLagSeconds: 30,
          maxReplayGapBytes: 16777216,
          acceptDataLoss: false,
        },
      ],
      f,
    );
    assert.equal(r!.ok, false);
    assert.match(r!.message, /lags 45 s; the limit is 30 s/);
    const [ok] = await evaluateLiveChecks(
      "theatl",
      [
        {
          kind: "standby-ready",
          node: "pg-b",
          maxLagSeconds: 30,
          maxReplayGapBytes: 16777216,
          acceptDataLoss: true,
        },
      ],
      f,
    );
    assert.equal(ok!.ok, true);
  });

  it("refuses to promote an unhealthy standby, or one it cannot observe", async () => {
    const [sick] = await evaluateLiveChecks(
      "theatl",
      [
        {
          kind: "standby-ready",
          node: "pg-b",
          maxLagSeconds: 30,
          maxReplayGapBytes: 16777216,
          acceptDataLoss: false,
        },
      ],
      facts([{ name: "pg-b", role: "standby", replicationLagSeconds: 0, healthy: false }]),
    );
    assert.equal(sick!.ok, false);
    const [blind] = await evaluateLiveChecks(
      "theatl",
      [
        {
          kind: "standby-ready",
          node: "pg-b",
          maxLagSeconds: 30,
          maxReplayGapBytes: 16777216,
          acceptDataLoss: false,
        },
      ],
      { dbNodes: async () => undefined },
    );
    assert.equal(blind!.ok, false);
  });
});
