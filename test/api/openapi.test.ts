import * as assert from "node:assert/strict";
import { openApiDocument } from "../../src/api/openapi";
import { startApiHarness, type ApiHarness } from "./api-harness";

/** Probes each documented route for real: a 404 ROUTE_NOT_FOUND means the document lies. */
describe("OpenAPI document", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.close());

  const concrete = (p: string) => p.replace("{site}", "theatl").replace("{id}", "op-00000000-0000-0000-0000-000000000000");

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

  it("documents every route the API answers (undocumented method/path pairs are 404)", async () => {
    const api = h.client("admin");
    const documented = new Set(Object.entries(openApiDocument.paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m} ${p}`)));
    const candidates = ["/v1/sites", "/v1/sites/{site}", "/v1/sites/{site}/operations", "/v1/operations/{id}", "/v1/operations/{id}/events", "/v1/operations/{id}/cancel", "/v1/operations/{id}/approve", "/healthz", "/readyz", "/v1/openapi.json"];
    for (const p of candidates) {
      for (const m of ["get", "post", "put", "delete", "patch"]) {
        if (documented.has(`${m} ${p}`)) continue;
        const r = await api.request(m.toUpperCase(), concrete(p), m === "get" || m === "delete" ? undefined : {});
        assert.equal(r.status, 404, `${m} ${p} answered ${r.status} but is not documented`);
      }
    }
  });

  it("lists every error code the API maps, with the status codes each route can answer", () => {
    const codes = openApiDocument.components.schemas.Error.properties.error.properties.code.enum;
    for (const c of ["VALIDATION_FAILED", "UNAUTHENTICATED", "FORBIDDEN", "GUARD_REFUSED", "OPERATION_UNSUPPORTED", "SERVICE_UNAVAILABLE"]) assert.ok((codes as readonly string[]).includes(c), c);
    const post = openApiDocument.paths["/v1/sites/{site}/operations"].post.responses;
    for (const s of ["202", "400", "401", "403", "404", "413", "415", "422", "503"]) assert.ok(s in post, s);
  });
});
