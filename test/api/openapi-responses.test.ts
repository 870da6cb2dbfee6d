import * as assert from "node:assert/strict";
import { startApiHarness, type ApiHarness } from "./api-harness";
import { secretOf } from "./api-harness";
import { ContractChecker, rawRequest } from "./openapi-contract";

/** Real answers of the API, each checked against /v1/openapi.json as the server serves it. */
describe("API answers match the OpenAPI document", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  let contract: ContractChecker;
  before(async () => {
    h = await startApiHarness();
    const served = await h.client().get("/v1/openapi.json");
    contract = new ContractChecker(served.body);
  });
  after(async () => h?.close());

  const call = async (
    token: string | undefined,
    method: string,
    p: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => {
    const r = await h.client(token).request(method, p, body, headers);
    contract.check(method, p, r.status, r.body, r.headers.get("content-type"));
    return r;
  };

  it("for submissions, reads, refusals and cancels of every kind", async () => {
    const expect = (got: { status: number }, status: number) => assert.equal(got.status, status);
    expect(await call(undefined, "GET", "/healthz"), 200);
    expect(await call(undefined, "GET", "/readyz"), 200);
    expect(await call("reader", "GET", "/v1/sites"), 200);
    expect(await call(undefined, "GET", "/v1/sites"), 401);
    expect(await call("reader", "GET", "/v1/sites/theatl"), 200);
    expect(await call("reader", "GET", "/v1/sites/nowhere"), 404);
    expect(await call("reader", "GET", "/v1/sites/NOT_A_SITE"), 400);

    const sub = await call(
      "admin",
      "POST",
      "/v1/sites/theatl/operations",
      { operation: "scale-sidekiq", params: { count: 3 } },
      { "idempotency-key": "k-1" },
    );
    expect(sub, 202);
    expect(
      await call(
        "admin",
        "POST",
        "/v1/sites/theatl/operations",
        { operation: "scale-sidekiq", params: { count: 3 } },
        { "idempotency-key": "k-1" },
      ),
      200,
    );
    expect(
      await call("admin", "POST", "/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count: "3" },
      }),
      400,
    );
    expect(await call("admin", "POST", "/v1/sites/theatl/operations", '{"operation": '), 400);
    expect(
      await call("admin", "POST", "/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count: 7 },
      }),
      422,
    );
    expect(
      await call("admin", "POST", "/v1/sites/insync/operations", {
        operation: "scale-sidekiq",
        params: { count: 2 },
      }),
      422,
    );
    expect(
      await call("admin", "POST", "/v1/sites/theatl/operations", "count=3", { "content-type": "text/plain" }),
      415,
    );
    expect(
      await call("admin", "POST", "/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count: 3, pool: "x".repeat(20_000) },
      }),
      413,
    );
    expect(
      await call(
        "admin",
        "POST",
        "/v1/sites/theatl/operations",
        { operation: "scale-sidekiq", params: { count: 3 } },
        { "content-type": "application/json; charset=latin-9" },
      ),
      415,
    );
    expect(
      await call("theatlScaler", "POST", "/v1/sites/theatl/operations", {
        operation: "failover",
        params: {},
      }),
      403,
    );
    expect(
      await call("reader", "POST", "/v1/sites/theatl/operations", {
        operation: "scale-sidekiq",
        params: { count: 3 },
      }),
      403,
    );

    const id = sub.body.id as string;
    expect(await call("reader", "GET", `/v1/operations/${id}`), 200);
    expect(await call("reader", "GET", "/v1/operations/op-00000000-0000-0000-0000-000000000000"), 404);
    expect(await call("reader", "GET", "/v1/operations/op-nope"), 400);
    expect(await call("reader", "GET", "/v1/sites/theatl/operations?limit=5"), 200);
    expect(await call("reader", "GET", "/v1/sites/theatl/operations?limit=0"), 400);
    expect(await call("approver", "POST", `/v1/operations/${id}/approve`), 409);
    expect(await call("reader", "POST", `/v1/operations/${id}/cancel`), 403);
    expect(await call("admin", "POST", `/v1/operations/${id}/cancel`), 202);
    expect(await call("admin", "POST", `/v1/operations/${id}/cancel`), 409);
    expect(await call("reader", "GET", `/v1/operations/${id}/events`), 200);
    const trace = await rawRequest(h.client().base, "TRACE", "/v1/sites/theatl/operations", {
      authorization: `Bearer ${secretOf("admin")}`,
    });
    contract.check("TRACE", "/v1/sites/theatl/operations", trace.status, trace.body, "application/json");
    expect(trace, 405);
    expect(await call("admin", "PUT", `/v1/operations/${id}`, {}), 405);
    expect(await call("admin", "GET", "/v1/sites/theatl/schedules"), 503);
    expect(await call("admin", "DELETE", "/v1/sites/theatl/schedules/sch-nope"), 400);
    assert.ok(contract.checked.length >= 30, `${contract.checked.length} answers checked`);
  });

  it("catches an answer the document does not describe (the checker itself can fail)", () => {
    assert.throws(
      () => contract.check("GET", "/v1/operations/op-x", 200, { id: 1 }, "application/json"),
      /does not match the document/,
    );
    assert.throws(
      () => contract.check("GET", "/v1/sites", 418, {}, "application/json"),
      /status 418 not documented/,
    );
  });
});
