import * as assert from "node:assert/strict";
import { scheduleBodySchema, shortestGap } from "../../src/schedules/schedule-schema";
import { operatorService, type OperatorService } from "../chatops/support/operator-service";

describe("schedule validation (unit)", () => {
  const schema = scheduleBodySchema(60);
  it("accepts a 5-field evening-peak cron in a named time zone", () => {
    const r = schema.safeParse({
      cron: "0 18 * * 1-5",
      timezone: "America/New_York",
      operation: "scale-sidekiq",
      params: { count: 5 },
    });
    assert.equal(r.success, true, JSON.stringify(r.error?.issues));
  });
  it("finds the shortest gap anywhere in the next day of firings, not only between the first two", () => {
    assert.equal(shortestGap("0-29,59 */2 * * * *", "UTC", 60)?.seconds, 1);
    // From a moment whose first gaps under the minimum are 30 s and 58 s, the 1 s gaps after them still count.
    assert.equal(shortestGap("0-29,59 */2 * * * *", "UTC", 60, new Date("2026-12-01T17:38:28Z"))?.seconds, 1);
    assert.equal(shortestGap("0,1,59 */2 * * * *", "UTC", 60, new Date("2026-12-01T17:38:00Z"))?.seconds, 1);
    assert.equal(shortestGap("0 18 * * 1-5", "America/New_York", 60)!.seconds >= 24 * 3600, true);
    assert.equal(shortestGap("0 0 1 1 *", "UTC", 60)!.seconds >= 365 * 24 * 3600, true);
  });
  it("refuses a cron that fires more often than the minimum interval", () => {
    const r = schema.safeParse({ cron: "*/10 * * * * *", operation: "scale-sidekiq", params: { count: 5 } });
    assert.equal(r.success, false);
    assert.match(r.error!.issues[0]!.message, /more often than every 60 s/);
  });
});

describe("schedules through the API", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("refuses a bad cron, an unknown time zone, params outside the operation's schema, and an unknown operation, naming the field", async () => {
    const api = s.api();
    const post = (b: object) => api.post("/v1/sites/theatl/schedules", b);
    const cases: Array<[object, string]> = [
      [{ cron: "61 * * * *", operation: "scale-sidekiq", params: { count: 2 } }, "cron"],
      [
        { cron: "0 2 * * *", timezone: "Mars/Olympus", operation: "scale-sidekiq", params: { count: 2 } },
        "timezone",
      ],
      [{ cron: "0 2 * * *", operation: "scale-sidekiq", params: { count: 0 } }, "params.count"],
      [{ cron: "0 2 * * *", operation: "scale-sidekiq", params: { count: 2, extra: 1 } }, "params.extra"],
      [{ cron: "0 2 * * *", operation: "destroy", params: {} }, "operation"],
    ];
    for (const [b, field] of cases) {
      const r = await post(b);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.details.field, field, JSON.stringify(r.body));
    }
    assert.equal(
      (
        await s.api("reader").post("/v1/sites/theatl/schedules", {
          cron: "0 2 * * *",
          operation: "scale-sidekiq",
          params: { count: 2 },
        })
      ).status,
      403,
    );
    assert.equal((await api.get("/v1/sites/theatl/schedules")).body.schedules.length, 0);
  });

  it("creates, lists and deletes a nightly schedule", async () => {
    const api = s.api();
    const c = await api.post("/v1/sites/theatl/schedules", {
      cron: "0 2 * * *",
      timezone: "Europe/Berlin",
      operation: "scale-sidekiq",
      params: { count: 2 },
      description: "night",
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    assert.match(c.body.id, /^sch-[0-9a-f]{16}$/);
    assert.equal(c.body.nextRuns.length, 3);
    const list = await api.get("/v1/sites/theatl/schedules");
    assert.deepEqual(
      list.body.schedules.map((x: any) => x.id),
      [c.body.id],
    );
    assert.equal((await api.request("DELETE", `/v1/sites/theatl/schedules/${c.body.id}`)).status, 200);
    assert.equal((await api.get("/v1/sites/theatl/schedules")).body.schedules.length, 0);
    const again = await api.request("DELETE", `/v1/sites/theatl/schedules/${c.body.id}`);
    assert.equal(again.status, 404);
    assert.equal(again.body.error.code, "SCHEDULE_NOT_FOUND");
  });

  it("fires a per-second schedule as an ordinary operation with its own history entry, requested by its creator via schedule:<id>", async () => {
    const api = s.api();
    for (const o of (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations)
      await api.waitFor(o.id);
    const c = await api.post("/v1/sites/theatl/schedules", {
      cron: "*/1 * * * * *",
      operation: "scale-sidekiq",
      params: { count: 4 },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const id = c.body.id as string;
    let opId: string | undefined;
    try {
      const until = Date.now() + 30_000;
      while (!opId && Date.now() < until) {
        const list = await api.get("/v1/sites/theatl/schedules");
        opId = list.body.schedules.find((x: any) => x.id === id)?.lastRun?.operationId;
        if (!opId) await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      assert.equal((await api.request("DELETE", `/v1/sites/theatl/schedules/${id}`)).status, 200);
    }
    assert.ok(opId, "the schedule fired within 30 s");
    const hist = (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations.filter(
      (o: any) => o.requester.via === `schedule:${id}`,
    );
    assert.ok(
      hist.some((o: any) => o.id === opId),
      "own history entry",
    );
    assert.ok(
      hist.every((o: any) => o.requester.tokenId === "admin"),
      "the creator is the requester",
    );
    const done = await api.waitFor(opId!);
    assert.equal(done.status, "succeeded", done.reason);
    assert.equal(done.kind, "scale-sidekiq");
    // Deleted: no more firings.
    const n = (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations.filter(
      (o: any) => o.requester.via === `schedule:${id}`,
    ).length;
    await new Promise((r) => setTimeout(r, 2500));
    const m = (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations.filter(
      (o: any) => o.requester.via === `schedule:${id}`,
    ).length;
    assert.equal(m, n, "no firing after delete");
    for (const o of (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations)
      await api.waitFor(o.id);
  });
});
