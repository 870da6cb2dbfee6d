import * as assert from "node:assert/strict";
import { startApiHarness, type ApiHarness } from "./api-harness";

/** Every refusal: a 4xx with a stable code naming the field, and nothing enqueued or recorded. */
describe("API refuses bad requests before anything is enqueued", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.close());

  const jobsQueued = async () => Object.values(await h.queues.counts()).reduce((a, b) => a + b, 0);
  const opsRecorded = async () => {
    let n = 0;
    for (const s of ["vulpine", "chitter", "theatl", "insync", "datafruits"])
      n += (await h.ledger.listForSite(s, 100)).length;
    return n;
  };

  const cases: Array<{
    name: string;
    token?: string;
    site?: string;
    body?: unknown;
    raw?: string;
    headers?: Record<string, string>;
    status: number;
    code: string;
    field?: string;
  }> = [
    {
      name: "a missing token",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 401,
      code: "UNAUTHENTICATED",
    },
    {
      name: "an unknown token",
      token: "svc_not_a_real_token_123456",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 401,
      code: "UNAUTHENTICATED",
    },
    {
      name: "a token without the write scope",
      token: "reader",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 403,
      code: "FORBIDDEN",
    },
    {
      name: "a token for another site",
      token: "theatlScaler",
      site: "vulpine",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 403,
      code: "FORBIDDEN",
    },
    {
      name: "a token for another operation",
      token: "theatlScaler",
      body: { operation: "failover", params: {} },
      status: 403,
      code: "FORBIDDEN",
    },
    {
      name: "an unknown site",
      site: "mastodon-social",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 404,
      code: "SITE_NOT_FOUND",
      field: "site",
    },
    {
      name: "a site id that is a path trick",
      site: "..%2Fetc",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "site",
    },
    {
      name: "an unknown operation",
      body: { operation: "reboot", params: {} },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "operation",
    },
    {
      name: "a count of the wrong type",
      body: { operation: "scale-sidekiq", params: { count: "five" } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "params.count",
    },
    {
      name: "a fractional count",
      body: { operation: "scale-sidekiq", params: { count: 2.5 } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "params.count",
    },
    {
      name: "a count below 1",
      body: { operation: "scale-sidekiq", params: { count: 0 } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "params.count",
    },
    {
      name: "a count above the site's bound",
      body: { operation: "scale-sidekiq", params: { count: 7 } },
      status: 422,
      code: "GUARD_REFUSED",
      field: "params.count",
    },
    {
      name: "an unknown parameter",
      body: { operation: "scale-sidekiq", params: { count: 3, force: true } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "params.force",
    },
    {
      name: "an unknown top-level key",
      body: { operation: "scale-sidekiq", params: { count: 3 }, __proto__x: 1 },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "__proto__x",
    },
    {
      name: "a replica name that is not a DNS label",
      body: { operation: "add-read-replica", params: { name: "PG_C!" } },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "params.name",
    },
    {
      name: "an unknown sidekiq pool",
      body: { operation: "scale-sidekiq", params: { count: 3, pool: "ingress" } },
      status: 422,
      code: "GUARD_REFUSED",
      field: "params.pool",
    },
    {
      name: "an operation the site cannot do",
      site: "insync",
      body: { operation: "scale-sidekiq", params: { count: 2 } },
      status: 422,
      code: "OPERATION_UNSUPPORTED",
    },
    {
      name: "a replica on a single-host site",
      site: "vulpine",
      body: { operation: "add-read-replica", params: { name: "pg-b" } },
      status: 422,
      code: "OPERATION_UNSUPPORTED",
    },
    { name: "malformed JSON", raw: '{"operation": "scale-sidekiq", ', status: 400, code: "MALFORMED_JSON" },
    {
      name: "a non-JSON content type",
      raw: "operation=scale-sidekiq",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 415,
      code: "UNSUPPORTED_MEDIA_TYPE",
    },
    {
      name: "an oversized body",
      body: { operation: "scale-sidekiq", params: { count: 3, pool: "x".repeat(20_000) } },
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
    },
    {
      name: "a malformed Idempotency-Key",
      body: { operation: "scale-sidekiq", params: { count: 3 } },
      headers: { "idempotency-key": "x".repeat(300) },
      status: 400,
      code: "VALIDATION_FAILED",
      field: "Idempotency-Key",
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} ${c.code} to ${c.name}${c.field ? `, naming ${c.field}` : ""}, and enqueues nothing`, async () => {
      const api = h.client(c.token ?? (c.name.includes("missing token") ? undefined : "admin"));
      const r = await api.post(`/v1/sites/${c.site ?? "theatl"}/operations`, c.raw ?? c.body, c.headers);
      assert.equal(r.status, c.status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, c.code);
      assert.equal(typeof r.body.error.message, "string");
      assert.ok(r.body.error.details && typeof r.body.error.details === "object");
      if (c.field) assert.equal(r.body.error.details.field, c.field, JSON.stringify(r.body.error));
      assert.equal(await jobsQueued(), 0);
      assert.equal(await opsRecorded(), 0);
    });
  }

  it("says why a site cannot do an operation", async () => {
    const r = await h
      .client("admin")
      .post("/v1/sites/vulpine/operations", { operation: "failover", params: {} });
    assert.equal(r.status, 422);
    assert.match(r.body.error.message, /vulpine cannot failover: .*single Linode/);
    assert.equal(r.body.error.details.reason.length > 10, true);
  });

  it("refuses a failover to a node that is not a standby, naming the rule", async () => {
    const r = await h
      .client("admin")
      .post("/v1/sites/theatl/operations", { operation: "failover", params: { target: "pg-c" } });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.details.rule, "target-not-standby");
  });

  it("never logs a bearer token", async () => {
    await h
      .client("svc_leaky_secret_value_987654")
      .post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count: 3 } });
    await h
      .client("admin")
      .post("/v1/sites/nowhere/operations", { operation: "scale-sidekiq", params: { count: 3 } });
    const all = h.logLines.join("\n");
    assert.ok(all.length > 0);
    assert.ok(!all.includes("svc_leaky_secret_value_987654"));
    assert.ok(!all.includes("svc_test_admin"));
  });
});
