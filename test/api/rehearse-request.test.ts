import * as assert from "node:assert/strict";
import { siteStateSchema } from "../../src/operations/site-state";
import { startApiHarness, type ApiHarness } from "./api-harness";

describe("rehearsal requests (the API on a real Redis, no workers: jobs stay queued)", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness({ coalesce: true })));
  after(async () => h?.close());

  it("records a rehearsal as one, never coalesced with a live scale request either way", async () => {
    const api = h.client("admin");
    const live = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    const rehearsal = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 4 },
      rehearse: true,
    });
    const rider = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 5 },
    });
    for (const r of [live, rehearsal, rider]) assert.equal(r.status, 202, JSON.stringify(r.body));
    const rec = (await api.get(`/v1/operations/${rehearsal.body.id}`)).body;
    assert.equal(rec.rehearsal, true);
    assert.equal(rec.coalescedInto, undefined, "a rehearsal runs on its own twin");
    assert.deepEqual(rec.params, { count: 4 });
    assert.equal((await api.get(`/v1/operations/${live.body.id}`)).body.rehearsal, undefined);
    assert.equal((await api.get(`/v1/operations/${rider.body.id}`)).body.coalescedInto, live.body.id);
    const queued = await h.queues.queueCounts("theatl");
    assert.equal(queued.waiting, 2, "the live request and the rehearsal; the rider queues nothing");
  });

  it("waits for no approval on a rehearsed failover, where the live request would", async () => {
    const api = h.client("admin");
    const body = { operation: "failover", params: { target: "pg-b" } };
    const liveOp = await api.post("/v1/sites/theatl/operations", body);
    const rehearsed = await api.post("/v1/sites/theatl/operations", { ...body, rehearse: true });
    assert.equal(liveOp.status, 202, JSON.stringify(liveOp.body));
    assert.equal(rehearsed.status, 202, JSON.stringify(rehearsed.body));
    assert.ok(
      (await api.get(`/v1/operations/${liveOp.body.id}`)).body.approval,
      "the live failover needs approval",
    );
    assert.equal((await api.get(`/v1/operations/${rehearsed.body.id}`)).body.approval, undefined);
  });

  it("refuses `rehearse` of any other type with 400 naming the field, and accepts `false` as a live request", async () => {
    const api = h.client("admin");
    for (const v of ["yes", 1, null, {}]) {
      const r = await api.post("/v1/sites/vulpine/operations", {
        operation: "scale-sidekiq",
        params: { count: 3 },
        rehearse: v,
      });
      assert.equal(r.status, 400, `rehearse: ${JSON.stringify(v)}`);
      assert.equal(r.body.error.details.field, "rehearse");
    }
    const ok = await api.post("/v1/sites/vulpine/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
      rehearse: false,
    });
    assert.equal(ok.status, 202);
    assert.equal((await api.get(`/v1/operations/${ok.body.id}`)).body.rehearsal, undefined);
  });

  it("refuses to rehearse a drift detection (it changes nothing) with 400 naming `rehearse`", async () => {
    const r = await h
      .client("admin")
      .post("/v1/sites/theatl/operations", { operation: "detect-drift", rehearse: true });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.field, "rehearse");
    assert.match(r.body.error.message, /nothing to rehearse/);
  });

  it("shows no rehearsal on a site before one has ended", async () => {
    const s = siteStateSchema.parse((await h.client("admin").get("/v1/sites/chitter")).body);
    assert.equal(s.rehearsal, null);
  });
});
