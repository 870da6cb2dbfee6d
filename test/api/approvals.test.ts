import * as assert from "node:assert/strict";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import { startApiHarness, type ApiHarness } from "./api-harness";

/**
 * The approval endpoint on its own: a worker's preview is stood in for by moving the record to
 * `awaiting-approval` the way the runner does (the end-to-end flow is in test/workers/policy-e2e).
 */
describe("POST /v1/operations/:id/approve", function () {
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

  /** Submits a failover as admin and parks it where the runner leaves it after the preview. */
  async function awaiting(): Promise<string> {
    const r = await h
      .client("admin")
      .post("/v1/sites/insync/operations", { operation: "failover", params: { target: "db-slave02" } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const id = r.body.id as string;
    assert.ok(await h.queues.removeQueued("insync", id), "the preview job stands in for a worker");
    const rec = (await h.ledger.get(id))!;
    const expiresAt = new Date(now.getTime() + TTL).toISOString();
    await h.ledger.transition(id, ["queued"], "awaiting-approval", {
      approval: { ...rec.approval!, requestedAt: now.toISOString(), expiresAt },
    });
    await h.ledger.addAwaiting(id, Date.parse(expiresAt));
    return id;
  }

  it("refuses self-approval (403 SELF_APPROVAL_FORBIDDEN) and an approver without the scope (403 FORBIDDEN)", async () => {
    const id = await awaiting();
    const self = await h.client("admin").post(`/v1/operations/${id}/approve`);
    assert.equal(self.status, 403);
    assert.equal(self.body.error.code, "SELF_APPROVAL_FORBIDDEN");
    const reader = await h.client("reader").post(`/v1/operations/${id}/approve`);
    assert.equal(reader.status, 403);
    assert.equal(reader.body.error.code, "FORBIDDEN");
    assert.equal((await h.client("admin").get(`/v1/operations/${id}`)).body.status, "awaiting-approval");
  });

  it("approves with a second principal: the update is queued as its own job", async () => {
    const id = await awaiting();
    const ok = await h.client("approver").post(`/v1/operations/${id}/approve`);
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.status, "queued");
    assert.equal(ok.body.approval.approvedBy, "approver");
    const run = (await h.queues.entries("insync")).find((e) => e.id === `${id}-approved`);
    assert.equal(run?.operationId, id);
    const again = await h.client("approver").post(`/v1/operations/${id}/approve`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "OPERATION_NOT_AWAITING_APPROVAL");
    await h.queues.removeQueued("insync", id);
  });

  it("rejects with the approve scope: the operation ends cancelled (APPROVAL_REJECTED), nothing is queued; a reader may not", async () => {
    const id = await awaiting();
    const reader = await h.client("reader").post(`/v1/operations/${id}/reject`);
    assert.equal(reader.status, 403);
    assert.equal(reader.body.error.code, "FORBIDDEN");
    const r = await h.client("approver").post(`/v1/operations/${id}/reject`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, "cancelled");
    assert.equal(r.body.failure.code, "APPROVAL_REJECTED");
    assert.equal(r.body.approval.rejectedBy, "approver");
    assert.equal(
      (await h.queues.entries("insync")).find((e) => e.id === `${id}-approved`),
      undefined,
      "a rejected operation queues no approved run",
    );
    const again = await h.client("approver").post(`/v1/operations/${id}/approve`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "OPERATION_NOT_AWAITING_APPROVAL");
    const rec = (await h.client("admin").get(`/v1/operations/${id}`)).body;
    assert.equal(rec.status, "cancelled");
    assert.match(rec.reason, /^APPROVAL_REJECTED: rejected by approver$/);
  });

  it("refuses approval after expiry (409 APPROVAL_EXPIRED); the operation ends expired", async () => {
    const id = await awaiting();
    now = new Date(now.getTime() + TTL + 1000);
    try {
      const late = await h.client("approver").post(`/v1/operations/${id}/approve`);
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, "APPROVAL_EXPIRED");
      const rec = (await h.client("admin").get(`/v1/operations/${id}`)).body;
      assert.equal(rec.status, "expired");
      assert.match(rec.reason, /^APPROVAL_EXPIRED/);
    } finally {
      now = new Date("2026-06-03T12:00:00Z");
    }
  });

  it("expires unread operations in the periodic sweep", async () => {
    const id = await awaiting();
    now = new Date(now.getTime() + TTL + 1000);
    try {
      assert.ok((await h.operations.expireDue()) >= 1);
      assert.equal((await h.ledger.get(id))!.status, "expired");
    } finally {
      now = new Date("2026-06-03T12:00:00Z");
    }
  });
});
