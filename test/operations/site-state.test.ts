import * as assert from "node:assert/strict";
import type { OperationRecord } from "../../src/operations/operation-record";
import { median, runSeconds } from "../../src/operations/run-durations";
import { siteStateSchema } from "../../src/operations/site-state";
import { startApiHarness, type ApiHarness } from "../api/api-harness";

/** A record as a runner leaves it while it runs `kind` on theatl since `startedAgoMs`. */
function runningRecord(id: string, kind: OperationRecord["kind"], startedAgoMs: number): OperationRecord {
  const started = new Date(Date.now() - startedAgoMs).toISOString();
  return {
    id,
    site: "theatl",
    kind,
    params: {},
    status: "running",
    requester: { tokenId: "admin" },
    createdAt: started,
    startedAt: started,
    attempts: 1,
    recovery: [],
    timings: {},
  };
}

describe("queue positions and wait estimates (the API on a real Redis, no workers: jobs stay queued)", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness({ coalesce: true })));
  after(async () => h?.close());

  it("numbers a stack's queued operations in submission order, a coalesced request at its carrier's place, with no estimate before anything ran", async () => {
    const api = h.client("admin");
    const a = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    const b = await api.post("/v1/sites/theatl/operations", {
      operation: "add-read-replica",
      params: { name: "pg-c", size: "s-1vcpu-2gb", volumeGb: 10 },
    });
    const rider = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 4 },
    });
    assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.equal(b.status, 202, JSON.stringify(b.body));
    assert.deepEqual(a.body.queue, { position: 1, ahead: 0, estimatedWaitSeconds: 0 });
    assert.deepEqual(b.body.queue, { position: 2, ahead: 1, estimatedWaitSeconds: null });
    const r = await api.get(`/v1/operations/${rider.body.id}`);
    assert.equal(r.body.coalescedInto, a.body.id);
    assert.deepEqual(r.body.queue, { position: 1, ahead: 0, estimatedWaitSeconds: 0, ridesOn: a.body.id });
    // Another site's queue is its own.
    const v = await api.post("/v1/sites/vulpine/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    assert.equal(v.body.queue.position, 1);

    const s = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    assert.deepEqual(
      s.queued.map((q) => [q.id, q.queue.position]),
      [
        [a.body.id, 1],
        [b.body.id, 2],
      ],
      "the rider runs nothing of its own: not listed",
    );
    assert.equal(s.running, null);
    // No deployment recorded in this harness: the deployed revision is unknown, not 0.
    assert.deepEqual(s.revision, { desired: 0, deployed: null, differ: null });
    assert.deepEqual(
      s.database.available && s.database.observation.ok,
      false,
      "this app observes no database",
    );
  });

  it("estimates from the run times the ledger kept where operations ended: what is left of the running one, then each one ahead", async () => {
    const api = h.client("admin");
    // A finished run of 10 s, ended through the ledger as the runner ends one.
    await h.ledger.create(runningRecord("op-00000000-0000-4000-8000-000000000001", "scale-sidekiq", 10_000));
    assert.ok(
      await h.ledger.transition("op-00000000-0000-4000-8000-000000000001", ["running"], "succeeded", {
        finishedAt: new Date().toISOString(),
      }),
    );
    let s = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    const near = (x: number | null, want: number) =>
      assert.ok(x !== null && Math.abs(x - want) < 1, `${x} is not about ${want}`);
    near(s.queued[0]!.queue.estimatedWaitSeconds, 0);
    near(s.queued[1]!.queue.estimatedWaitSeconds, 10);
    assert.equal(s.last?.id, "op-00000000-0000-4000-8000-000000000001");

    // One runs for 4 s now: 6 s left of it, then 10 s for the scale ahead (the replica borrows the stack's median).
    await h.ledger.create(runningRecord("op-00000000-0000-4000-8000-000000000002", "scale-sidekiq", 4_000));
    s = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    assert.equal(s.running?.id, "op-00000000-0000-4000-8000-000000000002");
    assert.equal(s.running?.phase, null, "no phase event yet");
    assert.deepEqual(
      s.queued.map((q) => q.queue.ahead),
      [1, 2],
    );
    near(s.queued[0]!.queue.estimatedWaitSeconds, 6);
    near(s.queued[1]!.queue.estimatedWaitSeconds, 16);
    await h.ledger.event("op-00000000-0000-4000-8000-000000000002", "phase", { phase: "preview" });
    s = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    assert.equal(s.running?.phase, "preview");
  });

  it("needs operations:read for the site and answers an unknown site 404", async () => {
    const theatlOnly = h.client("theatlScaler");
    assert.equal((await theatlOnly.get("/v1/sites/theatl")).status, 200);
    assert.equal((await theatlOnly.get("/v1/sites/vulpine")).status, 403);
    assert.equal((await h.client("approver").get("/v1/sites/nowhere")).status, 404);
  });
});

describe("run times and their median", () => {
  it("counts an approved operation's run from its approval, and nothing for riders, failures or unfinished runs", () => {
    const base = runningRecord("op-x", "failover", 0);
    const done = { ...base, status: "succeeded" as const, startedAt: "2026-01-01T00:00:00Z" };
    assert.equal(runSeconds({ ...done, finishedAt: "2026-01-01T00:00:30Z" }), 30);
    assert.equal(
      runSeconds({
        ...done,
        finishedAt: "2026-01-01T02:00:30Z",
        approval: { reasons: ["risky"], approvedAt: "2026-01-01T02:00:00Z" },
      }),
      30,
    );
    assert.equal(
      runSeconds({ ...done, finishedAt: "2026-01-01T00:00:30Z", coalescedInto: "op-y" }),
      undefined,
    );
    assert.equal(runSeconds({ ...done, status: "failed", finishedAt: "2026-01-01T00:00:30Z" }), undefined);
    assert.equal(runSeconds(done), undefined);
  });

  it("the median lies between the smallest and largest sample and does not depend on their order", () => {
    // 500 seeded random sample sets (no property-testing library in this tree).
    let seed = 17;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 500; round++) {
      const xs = Array.from({ length: 1 + Math.floor(next() * 40) }, () => next() * 1e6);
      const m = median(xs)!;
      assert.ok(m >= Math.min(...xs) && m <= Math.max(...xs));
      assert.equal(median([...xs].reverse()), m);
    }
    assert.equal(median([]), undefined);
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
  });
});
