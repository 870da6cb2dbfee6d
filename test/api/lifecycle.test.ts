import * as assert from "node:assert/strict";
import { startApiHarness, type ApiHarness } from "./api-harness";

describe("API operation lifecycle without workers (jobs stay queued)", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.close());

  it("accepts an operation with 202, an id, its plan and links, and queues exactly one job on the stack's queue", async () => {
    const api = h.client("theatlScaler");
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 4 },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.match(r.body.id, /^op-[0-9a-f-]{36}$/);
    assert.equal(r.headers.get("location"), `/v1/operations/${r.body.id}`);
    assert.deepEqual(r.body.links, {
      self: `/v1/operations/${r.body.id}`,
      events: `/v1/operations/${r.body.id}/events`,
      cancel: `/v1/operations/${r.body.id}/cancel`,
      site: "/v1/sites/theatl",
    });
    assert.deepEqual(r.body.plan.changes, [{ path: "sidekiq.pools.main.count", from: 2, to: 4 }]);
    const run = (await h.queues.entries("theatl")).find((e) => e.id === r.body.id);
    assert.equal(run?.started, false, "queued in the stack's FIFO, not started");
    assert.deepEqual(
      Object.keys(run!).sort(),
      ["enqueuedAt", "id", "operationId", "seq", "started"],
      "the queued run carries the id only",
    );
    assert.equal(run?.operationId, r.body.id);

    const got = await api.get(`/v1/operations/${r.body.id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.status, "queued");
    assert.equal(got.body.requester.tokenId, "theatlScaler");
    const hist = await api.get("/v1/sites/theatl/operations");
    assert.equal(hist.body.operations[0].id, r.body.id);
  });

  it("returns the first operation for a repeated Idempotency-Key, even under 20 concurrent requests", async () => {
    const api = h.client("admin");
    const body = { operation: "scale-sidekiq", params: { count: 3 } };
    const rs = await Promise.all(
      Array.from({ length: 20 }, () =>
        api.post("/v1/sites/vulpine/operations", body, { "idempotency-key": "deploy-42" }),
      ),
    );
    const ids = new Set(rs.map((r) => r.body.id));
    assert.equal(ids.size, 1);
    assert.equal(rs.filter((r) => r.status === 202).length, 1);
    assert.ok(rs.every((r) => r.status === 202 || r.status === 200));
    assert.equal((await h.queues.entries("vulpine")).filter((e) => ids.has(e.operationId)).length, 1);
    const other = await api.post(
      "/v1/sites/vulpine/operations",
      { operation: "scale-sidekiq", params: { count: 4 } },
      { "idempotency-key": "deploy-42" },
    );
    assert.equal(other.status, 422);
    assert.equal(other.body.error.code, "IDEMPOTENCY_KEY_REUSED");
  });

  it("cancels a queued operation by removing its job; a second cancel answers 409", async () => {
    const api = h.client("admin");
    const r = await api.post("/v1/sites/chitter/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    const c = await api.post(`/v1/operations/${r.body.id}/cancel`);
    assert.equal(c.status, 202);
    assert.equal(c.body.status, "cancelled");
    assert.ok(!(await h.queues.entries("chitter")).some((e) => e.operationId === r.body.id));
    const again = await api.post(`/v1/operations/${r.body.id}/cancel`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "OPERATION_FINISHED");
    // A token of another site may not see it: "not found", like an id that does not exist.
    const cannot = await h.client("theatlScaler").post(`/v1/operations/${r.body.id}/cancel`);
    assert.equal(cannot.status, 404);
    assert.equal(cannot.body.error.code, "OPERATION_NOT_FOUND");
  });

  it("lists only the sites a token may see, and shows a site's config revision", async () => {
    const reader = await h.client("reader").get("/v1/sites");
    assert.deepEqual(
      reader.body.sites.map((s: { site: string }) => s.site),
      ["vulpine", "chitter", "theatl", "insync", "datafruits"],
    );
    const scaler = await h.client("theatlScaler").get("/v1/sites");
    assert.equal(scaler.status, 403, "no sites:read scope");
    const site = await h.client("reader").get("/v1/sites/theatl");
    assert.equal(site.body.configRevision, 0);
    assert.equal(site.body.stackFile, "stacks/Pulumi.theatl.yaml");
  });

  it("answers unknown operations and routes with 404 JSON", async () => {
    const api = h.client("admin");
    const r = await api.get("/v1/operations/op-00000000-0000-0000-0000-000000000000");
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, "OPERATION_NOT_FOUND");
    const bad = await api.get("/v1/operations/123");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.field, "id");
    const route = await api.get("/v1/nothing-here");
    assert.equal(route.body.error.code, "ROUTE_NOT_FOUND");
  });

  it("streams a finished operation's events over SSE and closes", async () => {
    const api = h.client("admin");
    const r = await api.post("/v1/sites/insync/operations", { operation: "failover", params: {} });
    await api.post(`/v1/operations/${r.body.id}/cancel`);
    const sse = await api.get(`/v1/operations/${r.body.id}/events`);
    assert.match(String(sse.body), /event: status\ndata: \{"status":"queued"\}/);
    assert.match(String(sse.body), /event: status\ndata: \{"status":"cancelled".*\}\n\nevent: end/);
  });

  it("is live and ready while Redis answers, and answers 503 with nothing accepted once Redis is down", async () => {
    const api = h.client("admin");
    assert.equal((await api.get("/healthz")).status, 200);
    assert.equal((await api.get("/readyz")).status, 200);
    await h.redis.stop();
    const ready = await api.get("/readyz");
    assert.equal(ready.status, 503);
    const post = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    assert.equal(post.status, 503, JSON.stringify(post.body));
    assert.equal(post.body.error.code, "SERVICE_UNAVAILABLE");
    assert.equal((await api.get("/healthz")).status, 200);
  });
});
