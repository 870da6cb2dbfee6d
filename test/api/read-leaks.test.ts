import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import { parkAwaitingApproval, startApiHarness, type ApiHarness } from "./api-harness";

/** What a token that may not see an operation learns from reading, cancelling or approving it: nothing. */
describe("operation reads do not leak ids, sites or server paths", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let now = new Date("2026-06-03T12:00:00Z");
  const TTL = 3600_000;

  before(async () => {
    h = await startApiHarness({
      approvalTtlMs: TTL,
      guards: () => ({ settings: (s) => guardSettingsFor(s), now: () => now, runsLastHour: async () => 0 }),
    });
  });
  after(async () => h?.close());

  const unknownId = "op-00000000-0000-0000-0000-000000000000";

  it("answers 404 OPERATION_NOT_FOUND, the same as for an unknown id, to get/cancel/approve by a token of another site", async () => {
    const r = await h
      .client("admin")
      .post("/v1/sites/insync/operations", { operation: "failover", params: { target: "db-slave02" } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const scaler = h.client("theatlScaler");
    for (const [method, suffix] of [
      ["GET", ""],
      ["POST", "/cancel"],
      ["POST", "/approve"],
      ["GET", "/events"],
    ] as const) {
      const seen = await scaler.request(method, `/v1/operations/${r.body.id}${suffix}`);
      const unseen = await scaler.request(method, `/v1/operations/${unknownId}${suffix}`);
      assert.equal(seen.status, 404, `${method} ${suffix}: ${JSON.stringify(seen.body)}`);
      assert.equal(seen.body.error.code, "OPERATION_NOT_FOUND");
      assert.equal(unseen.status, 404);
      assert.deepEqual(
        Object.keys(seen.body.error.details).sort(),
        Object.keys(unseen.body.error.details).sort(),
      );
      assert.ok(
        !JSON.stringify(seen.body).includes("insync"),
        `${method} ${suffix} names the site: ${JSON.stringify(seen.body)}`,
      );
    }
    // Its own requester still sees it; a reader without the cancel scope may see it and is told 403.
    assert.equal((await h.client("admin").get(`/v1/operations/${r.body.id}`)).status, 200);
    assert.equal((await h.client("reader").post(`/v1/operations/${r.body.id}/cancel`)).status, 403);
    assert.equal((await h.ledger.get(r.body.id))!.status, "queued", "nothing happened to it");
  });

  it("checks the caller before any side effect: an overdue approval is not expired by a token that may not see it", async () => {
    const r = await h
      .client("admin")
      .post("/v1/sites/insync/operations", { operation: "failover", params: { target: "db-slave02" } });
    await parkAwaitingApproval(h, r.body.id, now, TTL);
    now = new Date(now.getTime() + TTL + 1000);
    try {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/approve"],
        ["POST", "/cancel"],
      ] as const) {
        const a = await h.client("theatlScaler").request(method, `/v1/operations/${r.body.id}${suffix}`);
        assert.equal(a.status, 404, `${method} ${suffix}`);
      }
      assert.equal(
        (await h.ledger.get(r.body.id))!.status,
        "awaiting-approval",
        "a refused read changed the operation",
      );
      // A caller who may see it does expire it on read, as before.
      assert.equal((await h.client("reader").get(`/v1/operations/${r.body.id}`)).body.status, "expired");
    } finally {
      now = new Date("2026-06-03T12:00:00Z");
    }
  });

  it("STACK_CONFIG_INVALID names the stack file relative to the workspace, never the server's absolute path", async () => {
    const file = path.join(h.workspace, "stacks", "Pulumi.vulpine.yaml");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, `${text}\n  : : [unbalanced\n`);
    try {
      const r = await h
        .client("admin")
        .post("/v1/sites/vulpine/operations", { operation: "scale-sidekiq", params: { count: 2 } });
      assert.equal(r.body.error.code, "STACK_CONFIG_INVALID", JSON.stringify(r.body));
      const body = JSON.stringify(r.body);
      assert.ok(!body.includes(h.workspace), body);
      assert.ok(!body.includes(path.dirname(h.workspace)), body);
      assert.match(r.body.error.details.problems[0], /^stacks\/Pulumi\.vulpine\.yaml: /);
    } finally {
      fs.writeFileSync(file, text);
    }
  });
});
