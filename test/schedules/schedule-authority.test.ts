import * as assert from "node:assert/strict";
import { CronExpressionParser } from "cron-parser";
import { hashToken } from "../../src/auth/tokens";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import { parkAwaitingApproval, startApiHarness, type ApiHarness } from "../api/api-harness";
import type { ApiClient } from "../workers/support/api-client";

const NOW = new Date("2026-06-03T12:00:00Z");
const TTL = 3600_000;

/** Waits until the schedule's lastRun satisfies `ok`; returns it. */
async function lastRun(
  api: ApiClient,
  site: string,
  id: string,
  ok: (r: any) => boolean,
  timeoutMs = 20_000,
): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const list = await api.get(`/v1/sites/${site}/schedules?limit=200`);
    const run = list.body.schedules?.find((x: any) => x.id === id)?.lastRun;
    if (run && ok(run)) return run;
    if (Date.now() > until)
      throw new Error(`schedule ${id}: lastRun ${JSON.stringify(run)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function scheduledOps(h: ApiHarness, site: string, id: string): Promise<any[]> {
  return (await h.client("admin").get(`/v1/sites/${site}/operations?limit=200`)).body.operations.filter(
    (o: any) => o.requester.via === `schedule:${id}`,
  );
}

/** Real schedule firings (BullMQ job schedulers on a real Redis) through the API; no stack worker runs them. */
describe("a schedule acts with its creator's current authority", function () {
  this.timeout(120_000);
  let h: ApiHarness;

  before(async () => {
    h = await startApiHarness({
      approvalTtlMs: TTL,
      guards: () => ({ settings: (s) => guardSettingsFor(s), now: () => NOW, runsLastHour: async () => 0 }),
      schedules: { minIntervalSeconds: 1, fire: true },
    });
  });
  after(async () => h?.close());

  it("names the creator as requester (via the schedule), so the creator cannot approve its failover", async () => {
    const admin = h.client("admin");
    const c = await admin.post("/v1/sites/insync/schedules", {
      cron: "*/1 * * * * *",
      operation: "failover",
      params: { target: "db-slave02" },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    let run;
    try {
      run = await lastRun(admin, "insync", c.body.id, (r) => !!r.operationId);
    } finally {
      assert.equal((await admin.request("DELETE", `/v1/sites/insync/schedules/${c.body.id}`)).status, 200);
    }
    const op = (await admin.get(`/v1/operations/${run.operationId}`)).body;
    assert.deepEqual(op.requester, { tokenId: "admin", via: `schedule:${c.body.id}` });
    await parkAwaitingApproval(h, op.id, NOW, TTL);
    const self = await admin.post(`/v1/operations/${op.id}/approve`);
    assert.equal(self.status, 403, JSON.stringify(self.body));
    assert.equal(self.body.error.code, "SELF_APPROVAL_FORBIDDEN");
    assert.equal((await h.ledger.get(op.id))!.status, "awaiting-approval");
    const other = await h.client("approver").post(`/v1/operations/${op.id}/approve`);
    assert.equal(other.status, 202, JSON.stringify(other.body));
    await h.queues.removeQueued("insync", op.id);
  });

  it("fires nothing once the creator's token is revoked or loses the scope, and says so on the schedule and in the log", async () => {
    const secret = "svc_test_nightly_0123456789abcdef";
    h.tokens.push({
      id: "nightly",
      sha256: hashToken(secret),
      sites: ["theatl"],
      operations: ["scale-sidekiq"],
      scopes: ["operations:write", "operations:read"],
    });
    const nightly = h.client(secret);
    const admin = h.client("admin");
    const c = await nightly.post("/v1/sites/theatl/schedules", {
      cron: "*/1 * * * * *",
      operation: "scale-sidekiq",
      params: { count: 2 },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const id = c.body.id as string;
    try {
      const first = await lastRun(admin, "theatl", id, (r) => !!r.operationId);
      assert.equal(
        (await admin.get(`/v1/operations/${first.operationId}`)).body.requester.tokenId,
        "nightly",
      );

      // Narrowed: the token may now only read.
      h.tokens.find((t) => t.id === "nightly")!.scopes = ["operations:read"];
      const narrowed = await lastRun(
        admin,
        "theatl",
        id,
        (r) => r.error?.code === "SCHEDULE_CREATOR_UNAUTHORIZED",
      );
      assert.match(narrowed.error.message, /nightly may no longer run scale-sidekiq on theatl/);

      // Revoked: gone from the configuration.
      h.tokens.splice(
        h.tokens.findIndex((t) => t.id === "nightly"),
        1,
      );
      const revoked = await lastRun(admin, "theatl", id, (r) =>
        /no longer configured/.test(r.error?.message ?? ""),
      );
      assert.equal(revoked.operationId, undefined);
      const before = (await scheduledOps(h, "theatl", id)).length;
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(
        (await scheduledOps(h, "theatl", id)).length,
        before,
        "a revoked creator's schedule submitted an operation",
      );
      const refusals = h.logLines
        .map((l) => JSON.parse(l))
        .filter((j) => j.msg === "schedule firing refused" && j.scheduleId === id);
      assert.ok(refusals.length >= 2, "each refused firing is logged");
      assert.ok(
        refusals.every((j) => j.code === "SCHEDULE_CREATOR_UNAUTHORIZED" && j.createdBy === "nightly"),
        JSON.stringify(refusals[0]),
      );
    } finally {
      assert.equal((await admin.request("DELETE", `/v1/sites/theatl/schedules/${id}`)).status, 200);
    }
  });
});

describe("schedule limits through the API", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  const body = (count: number) => ({ cron: "0 2 * * *", operation: "scale-sidekiq", params: { count } });

  before(async () => (h = await startApiHarness({ schedules: { minIntervalSeconds: 60, maxPerSite: 3 } })));
  after(async () => h?.close());

  it("refuses a cron whose firings come closer than the minimum anywhere in the next day, not just the first two", async () => {
    // Seconds 0-29 (or 0-1) and 59 of every other minute: the first two firings may be 61 s apart,
    // the rest come 1 s apart. Which variant starts with the wide gap depends on the time, so the
    // request is sent at a moment when comparing only the first two firings would accept it.
    const variants = [
      "0-29,59 */2 * * * *",
      "0-29,59 1-59/2 * * * *",
      "0,1,59 */2 * * * *",
      "0,1,59 1-59/2 * * * *",
    ];
    const firstGap = (cron: string, at: number) => {
      const [a, b] = CronExpressionParser.parse(cron, { tz: "UTC", currentDate: new Date(at) }).take(2);
      return (b!.getTime() - a!.getTime()) / 1000;
    };
    let fooling: string | undefined;
    for (const until = Date.now() + 5000; !fooling && Date.now() < until;) {
      const now = Date.now();
      fooling = variants.find((c) => firstGap(c, now) >= 60 && firstGap(c, now + 1500) >= 60);
      if (!fooling) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(fooling, "no variant starts with a wide gap within 5 s");
    for (const cron of [fooling, ...variants]) {
      const r = await h
        .client("admin")
        .post("/v1/sites/theatl/schedules", { cron, operation: "scale-sidekiq", params: { count: 2 } });
      assert.equal(r.status, 400, `${cron}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.details.field, "cron");
      assert.match(r.body.error.message, /more often than every 60 s .*: 1 s between /);
    }
    assert.equal((await h.client("admin").get("/v1/sites/theatl/schedules")).body.schedules.length, 0);
  });

  it("deletes a schedule only with the scope for its own operation", async () => {
    const c = await h
      .client("admin")
      .post("/v1/sites/theatl/schedules", { cron: "0 3 * * *", operation: "failover", params: {} });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const r = await h.client("theatlScaler").request("DELETE", `/v1/sites/theatl/schedules/${c.body.id}`);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "FORBIDDEN");
    assert.equal(r.body.error.details.operation, "failover");
    assert.equal(
      (await h.client("admin").get("/v1/sites/theatl/schedules")).body.schedules.length,
      1,
      "still there",
    );
    assert.equal(
      (await h.client("admin").request("DELETE", `/v1/sites/theatl/schedules/${c.body.id}`)).status,
      200,
    );
  });

  it("caps schedules per site (409 SCHEDULE_LIMIT_REACHED, nothing stored) and pages the list", async () => {
    const api = h.client("admin");
    const made: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await api.post("/v1/sites/theatl/schedules", body(n));
      assert.equal(r.status, 201, JSON.stringify(r.body));
      made.push(r.body.id);
    }
    const over = await api.post("/v1/sites/theatl/schedules", body(4));
    assert.equal(over.status, 409, JSON.stringify(over.body));
    assert.equal(over.body.error.code, "SCHEDULE_LIMIT_REACHED");
    assert.equal(over.body.error.details.limit, 3);
    // Concurrent creates cannot overshoot the cap either.
    await api.request("DELETE", `/v1/sites/theatl/schedules/${made.pop()}`);
    const race = await Promise.all([5, 6, 7, 8].map((n) => api.post("/v1/sites/theatl/schedules", body(n))));
    assert.equal(race.filter((r) => r.status === 201).length, 1, JSON.stringify(race.map((r) => r.status)));
    made.push(race.find((r) => r.status === 201)!.body.id);
    // Another site has its own cap.
    assert.equal((await api.post("/v1/sites/vulpine/schedules", body(2))).status, 201);

    const p1 = await api.get("/v1/sites/theatl/schedules?limit=2");
    assert.equal(p1.status, 200);
    assert.equal(p1.body.schedules.length, 2);
    assert.ok(p1.body.nextCursor, JSON.stringify(p1.body));
    assert.equal(p1.body.links.next, `/v1/sites/theatl/schedules?limit=2&cursor=${p1.body.nextCursor}`);
    const p2 = await api.get(p1.body.links.next);
    assert.equal(p2.body.schedules.length, 1);
    assert.equal(p2.body.nextCursor, undefined);
    assert.deepEqual(
      [...p1.body.schedules, ...p2.body.schedules].map((s: any) => s.id),
      made,
    );
  });

  it("answers bad paging parameters with 400 naming the field", async () => {
    const api = h.client("admin");
    for (const [q, field] of [
      ["limit=0", "limit"],
      ["limit=201", "limit"],
      ["limit=abc", "limit"],
      ["cursor=not-a-cursor", "cursor"],
      ["cursor=" + Buffer.from("x|y").toString("base64url"), "cursor"],
      ["page=2", "page"],
    ]) {
      const r = await api.get(`/v1/sites/theatl/schedules?${q}`);
      assert.equal(r.status, 400, `${q}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.details.field, field, q);
    }
  });
});
