import * as assert from "node:assert/strict";
import { openApiDocument } from "../../src/api/openapi";
import { codesWithStatus, ERROR_CODE_LIST, errorStatuses } from "../../src/errors";
import { secretOf, startApiHarness, type ApiHarness } from "./api-harness";
import { ContractChecker, rawRequest } from "./openapi-contract";

/** Probes each documented route for real: a 404 ROUTE_NOT_FOUND means the document lies. */
describe("OpenAPI document", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.close());

  const concrete = (p: string) =>
    p.replace("{site}", "theatl").replace("{id}", "op-00000000-0000-0000-0000-000000000000");

  it("is served at /v1/openapi.json without a token", async () => {
    const r = await h.client().get("/v1/openapi.json");
    assert.equal(r.status, 200);
    assert.equal(r.body.openapi, "3.1.0");
  });

  it("documents only routes that exist (every documented path and method reaches a handler)", async () => {
    const api = h.client("admin");
    for (const [p, methods] of Object.entries(openApiDocument.paths)) {
      for (const m of Object.keys(methods)) {
        const r = await api.request(m.toUpperCase(), concrete(p), m === "post" ? {} : undefined);
        assert.notEqual(r.body?.error?.code, "ROUTE_NOT_FOUND", `${m} ${p}`);
      }
    }
  });

  it("documents every route the API answers (undocumented method/path pairs are 405 with the documented methods in Allow)", async () => {
    const api = h.client("admin");
    const documented = new Set(
      Object.entries(openApiDocument.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m} ${p}`)),
    );
    const candidates = [
      "/v1/sites",
      "/v1/sites/{site}",
      "/v1/sites/{site}/operations",
      "/v1/operations/{id}",
      "/v1/operations/{id}/events",
      "/v1/operations/{id}/cancel",
      "/v1/operations/{id}/approve",
      "/v1/operations/{id}/reject",
      "/healthz",
      "/readyz",
      "/v1/openapi.json",
    ];
    for (const p of candidates) {
      for (const m of ["get", "post", "put", "delete", "patch"]) {
        if (documented.has(`${m} ${p}`)) continue;
        const r = await api.request(
          m.toUpperCase(),
          concrete(p),
          m === "get" || m === "delete" ? undefined : {},
        );
        assert.equal(r.status, 405, `${m} ${p} answered ${r.status} but is not documented`);
        assert.equal(r.body.error.code, "METHOD_NOT_ALLOWED");
        const allow = (r.headers.get("allow") ?? "").split(", ");
        const methods = Object.keys((openApiDocument.paths as Record<string, object>)[p] ?? {}).map((x) =>
          x.toUpperCase(),
        );
        for (const d of methods) assert.ok(allow.includes(d), `${p}: Allow ${allow} lacks ${d}`);
      }
    }
  });

  it("answers TRACE on a known path with 405 and Allow, and OPTIONS with 204 and every method of the path", async () => {
    const base = h.client().base;
    const variants: Array<Record<string, string>> = [{}, { authorization: `Bearer ${secretOf("admin")}` }];
    for (const headers of variants) {
      const trace = await rawRequest(base, "TRACE", "/v1/sites/theatl/operations", headers);
      assert.equal(trace.status, 405);
      assert.equal(trace.body.error.code, "METHOD_NOT_ALLOWED");
      assert.equal(trace.allow, "GET, POST, HEAD, OPTIONS");
      const options = await rawRequest(base, "OPTIONS", "/v1/sites/theatl/operations", headers);
      assert.equal(options.status, 204);
      assert.equal(options.allow, "GET, POST, HEAD, OPTIONS");
      assert.equal(
        (
          await rawRequest(
            base,
            "OPTIONS",
            "/v1/operations/op-00000000-0000-0000-0000-000000000000/cancel",
            headers,
          )
        ).allow,
        "POST, OPTIONS",
      );
    }
    assert.equal(
      (await rawRequest(base, "TRACE", "/v1/nowhere", { authorization: `Bearer ${secretOf("admin")}` }))
        .status,
      404,
      "an unknown path stays 404",
    );
  });

  it("takes path patterns, bounds and defaults from the routes' own schemas", () => {
    const paths = openApiDocument.paths as any;
    const site = paths["/v1/sites/{site}"].get.parameters[0];
    assert.equal(site.schema.pattern, "^[a-z0-9][a-z0-9-]{0,39}$");
    const id = paths["/v1/operations/{id}"].get.parameters[0];
    assert.equal(id.schema.pattern, "^op-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    const scale = (openApiDocument.components.schemas.OperationRequest as any).oneOf[0].properties.params
      .properties;
    assert.deepEqual(scale.count, { type: "integer", minimum: 1, maximum: 100 });
    assert.equal(scale.pool.pattern, "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");
    const limit = paths["/v1/sites/{site}/operations"].get.parameters.find((p: any) => p.name === "limit");
    assert.deepEqual(limit.schema, { default: 50, type: "integer", minimum: 1, maximum: 200 });
    for (const [p, methods] of Object.entries(paths)) {
      for (const [m, op] of Object.entries(methods as Record<string, any>)) {
        if ((op.parameters ?? []).some((x: any) => x.in === "path"))
          assert.ok("400" in op.responses, `${m} ${p} documents its 400`);
        if (p.startsWith("/v1/") && !p.startsWith("/v1/hooks") && p !== "/v1/openapi.json")
          assert.ok("429" in op.responses, `${m} ${p} documents its 429`);
      }
    }
  });

  it("lists every error code the API maps, with the status codes each route can answer", () => {
    const codes = openApiDocument.components.schemas.Error.properties.error.properties.code.enum;
    for (const c of [
      "VALIDATION_FAILED",
      "UNAUTHENTICATED",
      "FORBIDDEN",
      "GUARD_REFUSED",
      "OPERATION_UNSUPPORTED",
      "SERVICE_UNAVAILABLE",
    ])
      assert.ok((codes as readonly string[]).includes(c), c);
    const post = openApiDocument.paths["/v1/sites/{site}/operations"].post.responses;
    for (const s of ["202", "400", "401", "403", "404", "413", "415", "422", "503"]) assert.ok(s in post, s);
  });

  it("takes its error codes from the error table, and documents each error status with the table's codes for it", () => {
    assert.deepEqual(
      openApiDocument.components.schemas.Error.properties.error.properties.code.enum,
      ERROR_CODE_LIST,
    );
    const responses = openApiDocument.components.responses as Record<string, { description: string }>;
    for (const s of errorStatuses())
      assert.equal(responses[`Error${s}`]?.description, codesWithStatus(s).join(", "));
    for (const [p, methods] of Object.entries(openApiDocument.paths)) {
      for (const [m, op] of Object.entries(methods as Record<string, { responses: Record<string, any> }>)) {
        for (const [status, r] of Object.entries(op.responses)) {
          if (Number(status) < 400 || !r.$ref) continue;
          assert.equal(r.$ref, `#/components/responses/Error${status}`, `${m} ${p} ${status}`);
        }
      }
    }
  });

  it("refuses, as a contract, a body whose code the table gives another status", () => {
    const contract = new ContractChecker();
    const body = (code: string) => ({ error: { code, message: "m", details: {} } });
    contract.check("POST", "/v1/sites/theatl/operations", 422, body("GUARD_REFUSED"), "application/json");
    assert.throws(
      () => contract.check("POST", "/v1/sites/theatl/operations", 422, body("FORBIDDEN"), "application/json"),
      /does not match the document/,
    );
  });
});
