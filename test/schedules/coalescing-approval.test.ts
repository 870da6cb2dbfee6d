import * as assert from "node:assert/strict";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import type { OperationKind } from "../../src/operations/registry";
import { parkAwaitingApproval, startApiHarness, type ApiHarness } from "../api/api-harness";

/** Coalescing scale requests (real Redis script) never reaches an operation an approval is about. */
describe("coalescing leaves operations under approval alone", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  const now = new Date("2026-06-03T12:00:00Z");
  const TTL = 3600_000;
  // Which kinds wait for approval, per request: a test flips it between two requests.
  let risky: OperationKind[] = ["failover"];

  before(async () => {
    h = await startApiHarness({
      approvalTtlMs: TTL,
      coalesce: true,
      guards: () => ({
        settings: (s) => ({ ...guardSettingsFor(s), approvalKinds: risky }),
        now: () => now,
        runsLastHour: async () => 0,
      }),
    });
  });
  after(async () => h?.close());

  const scale = (count: number) =>
    h.client("admin").post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count } });

  it("still coalesces two plain scale requests (the control)", async () => {
    risky = ["failover"];
    const a = await scale(2);
    const b = await scale(3);
    assert.equal(b.status, 202);
    assert.equal(((await h.ledger.get(b.body.id)) as any).coalescedInto, a.body.id);
    assert.deepEqual((await h.ledger.get(a.body.id))!.params, { count: 3 });
    await h.client("admin").post(`/v1/operations/${a.body.id}/cancel`);
  });

  it("does not overwrite the params of an approved operation queued for its update, nor of one waiting for approval", async () => {
    risky = ["failover", "scale-sidekiq"];
    const approved = await scale(3);
    assert.ok(approved.body.approval, JSON.stringify(approved.body));
    await parkAwaitingApproval(h, approved.body.id, now, TTL);
    const ok = await h.client("approver").post(`/v1/operations/${approved.body.id}/approve`);
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.status, "queued");

    risky = ["failover"]; // the next request needs no approval of its own
    const later = await scale(6);
    assert.equal(later.status, 202, JSON.stringify(later.body));
    const rec = (await h.ledger.get(later.body.id)) as any;
    assert.equal(rec.coalescedInto, undefined, "rode on the approved operation");
    assert.deepEqual(
      (await h.ledger.get(approved.body.id))!.params,
      { count: 3 },
      "the approved params changed",
    );
    assert.ok(
      (await h.queues.entries("theatl")).some((e) => e.id === later.body.id),
      "queued as its own run",
    );

    // A request that itself needs approval never rides either, and nothing rides on it while it waits.
    risky = ["failover", "scale-sidekiq"];
    const waiting = await scale(4);
    assert.equal(((await h.ledger.get(waiting.body.id)) as any).coalescedInto, undefined);
    risky = ["failover"];
    const after = await scale(5);
    assert.equal(((await h.ledger.get(after.body.id)) as any).coalescedInto, undefined);
    assert.deepEqual((await h.ledger.get(waiting.body.id))!.params, { count: 4 });
  });
});
