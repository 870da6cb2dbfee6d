import * as assert from "node:assert/strict";
import IORedis from "ioredis";
import { secretOf, startApiHarness, type ApiHarness } from "./api-harness";

/** An open SSE response, read as text as it arrives. */
async function openStream(base: string, token: string, id: string) {
  const ac = new AbortController();
  const res = await fetch(`${base}/v1/operations/${id}/events`, {
    headers: { authorization: `Bearer ${token}` },
    signal: ac.signal,
  });
  let text = "";
  const reader = res.status === 200 ? res.body!.getReader() : undefined;
  const decoder = new TextDecoder();
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader!.read();
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted by the test
    }
  })();
  return {
    res,
    get text() {
      return text;
    },
    /** Resolves once the text matches, fails after `ms`. */
    async until(re: RegExp, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!re.test(text)) {
        if (Date.now() > deadline) throw new Error(`stream never showed ${re}: ${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    ended: pump,
    close: () => ac.abort(),
  };
}

async function redisClients(url: string): Promise<number> {
  const c = new IORedis(url, { maxRetriesPerRequest: 1 });
  try {
    return (
      String(await c.client("LIST"))
        .trim()
        .split("\n").length - 1
    ); // not counting this one
  } finally {
    c.disconnect();
  }
}

describe("event streams share one Redis reader and are capped per token", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness({ streamsPerToken: 3 })));
  after(async () => h?.close());

  it("serves many streams through one connection, refuses the token's 4th with 429, and ends them all when the operation ends", async () => {
    const sub = await h
      .client("admin")
      .post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count: 3 } });
    assert.equal(sub.status, 202);
    const id = sub.body.id as string;
    const base = h.client().base;
    const before = await redisClients(h.redis.url);

    const streams = [];
    for (let i = 0; i < 3; i++) streams.push(await openStream(base, secretOf("reader"), id));
    streams.push(
      await openStream(base, secretOf("approver"), id),
      await openStream(base, secretOf("approver"), id),
    );
    for (const s of streams) {
      assert.equal(s.res.status, 200);
      await s.until(/event: status\ndata: \{"status":"queued"\}/);
    }
    const over = await openStream(base, secretOf("reader"), id);
    assert.equal(over.res.status, 429);
    assert.equal(over.res.headers.get("retry-after"), "5");
    const body = (await over.res.json()) as any;
    assert.equal(body.error.code, "TOO_MANY_STREAMS");
    assert.match(body.error.message, /token reader already has 3 event streams open/);

    // Five open streams, one reader connection between them (one connection per stream before).
    assert.ok(
      (await redisClients(h.redis.url)) - before <= 1,
      "at most one more Redis connection for all streams",
    );

    await h.ledger.transition(id, ["queued"], "succeeded", { finishedAt: new Date().toISOString() });
    for (const s of streams) {
      await s.until(/event: status\ndata: \{"status":"succeeded"\}[\s\S]*event: end/);
      await s.ended;
    }
    // The slots came back with the streams: the token may open streams again.
    const again = await openStream(base, secretOf("reader"), id);
    assert.equal(again.res.status, 200);
    await again.until(/event: end/);
    // The shared connection goes when nothing is followed.
    const deadline = Date.now() + 5_000;
    while ((await redisClients(h.redis.url)) > before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    assert.ok((await redisClients(h.redis.url)) <= before);
  });

  it("gives a slot back when the client goes away mid-stream", async () => {
    const sub = await h
      .client("admin")
      .post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count: 4 } });
    const id = (sub.body.coalescedInto ?? sub.body.id) as string;
    const base = h.client().base;
    for (let round = 0; round < 3; round++) {
      const open = [];
      for (let i = 0; i < 3; i++) open.push(await openStream(base, secretOf("reader"), id));
      for (const s of open) assert.equal(s.res.status, 200, `round ${round}`);
      for (const s of open) s.close();
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});

describe("per-token rate limit", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness({ rateLimit: { requests: 5, windowSeconds: 60 } })));
  after(async () => h?.close());

  it("answers 429 RATE_LIMITED with Retry-After once a token spent its budget, across API processes, and not for other tokens", async () => {
    const other = await h.anotherApi();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await h.client("reader").get("/v1/sites")).status);
    for (let i = 0; i < 2; i++) statuses.push((await other.client("reader").get("/v1/sites")).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    // The sixth request, to either process, is over the budget the two share through Redis.
    for (const api of [h.client("reader"), other.client("reader")]) {
      const r = await api.get("/v1/sites");
      assert.equal(r.status, 429);
      assert.equal(r.body.error.code, "RATE_LIMITED");
      assert.match(r.body.error.message, /token reader sent more than 5 requests in 60 s/);
      const retry = Number(r.headers.get("retry-after"));
      assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      assert.equal(r.body.error.details.retryAfterSeconds, retry);
    }
    // Keyed by token, not by address: another token from the same address is untouched.
    assert.equal(
      (await h.client("approver").get("/v1/operations/op-00000000-0000-0000-0000-000000000000")).status,
      404,
    );
  });

  it("does not count requests without a valid token against anyone", async () => {
    for (let i = 0; i < 8; i++)
      assert.equal((await h.client("svc_unknown_token_1234567").get("/v1/sites")).status, 401);
    assert.equal((await h.client("admin").get("/v1/sites")).status, 200);
  });
});

describe("retention of finished operations", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness({ retentionSeconds: 3600 })));
  after(async () => h?.close());

  it("gives a cancelled operation's record and events an expiry, keeps a queued one, and trims the site's index", async () => {
    const conn = new IORedis(h.redis.url, { maxRetriesPerRequest: 1 });
    try {
      // An index entry older than the retention period (its record is long gone).
      await conn.zadd(
        "stackyard:site:theatl:ops",
        Date.now() - 2 * 3600_000,
        "op-00000000-0000-0000-0000-000000000001",
      );
      const a = await h
        .client("admin")
        .post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count: 3 } });
      const b = await h
        .client("admin")
        .post("/v1/sites/chitter/operations", { operation: "scale-sidekiq", params: { count: 3 } });
      assert.equal(a.status, 202);
      assert.equal(b.status, 202);
      assert.equal(await conn.ttl(`stackyard:op:${a.body.id}`), -1, "no expiry while it is not finished");

      const c = await h.client("admin").post(`/v1/operations/${a.body.id}/cancel`);
      assert.equal(c.status, 202);
      assert.equal(c.body.status, "cancelled");
      for (const key of [`stackyard:op:${a.body.id}`, `stackyard:op:${a.body.id}:events`]) {
        const ttl = await conn.ttl(key);
        assert.ok(ttl > 3500 && ttl <= 3600, `${key} ttl ${ttl}`);
      }
      assert.equal(
        await conn.ttl(`stackyard:op:${b.body.id}`),
        -1,
        "the other, still queued, keeps no expiry",
      );
      assert.deepEqual(
        await conn.zrange("stackyard:site:theatl:ops", 0, -1),
        [a.body.id],
        "the stale index entry is gone",
      );
      assert.equal(
        (await h.client("admin").get(`/v1/operations/${a.body.id}`)).body.status,
        "cancelled",
        "still readable until it expires",
      );
    } finally {
      conn.disconnect();
    }
  });
});
