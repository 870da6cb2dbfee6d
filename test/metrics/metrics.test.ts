import * as assert from "node:assert/strict";
import { ApiClient } from "../workers/support/api-client";
import { operatorService, type OperatorService } from "../chatops/support/operator-service";
import { find, parsePrometheus } from "./prometheus-text";

describe("GET /metrics", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("needs a token with scope metrics:read", async () => {
    assert.equal((await new ApiClient(s.base).get("/metrics")).status, 401);
    const r = await s.api("reader").get("/metrics");
    assert.equal(r.status, 403);
    assert.equal(r.body.error.details.scope, "metrics:read");
  });

  it("exposes queue depth per stack, operation durations by type and outcome, and guard refusals by rule, in parseable text format", async () => {
    await s.finishedOperation();
    const refused = await s.api().post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3, pool: "nosuchpool" },
    });
    assert.equal(refused.status, 422);
    const r = await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${s.tokens.metrics}` } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await r.text());

    assert.equal(types.stackyard_queue_depth, "gauge");
    for (const stack of ["theatl", "vulpine"]) {
      for (const state of ["waiting", "active", "delayed"])
        assert.equal(find(samples, "stackyard_queue_depth", { stack, state }).length, 1, `${stack} ${state}`);
    }
    assert.equal(types.stackyard_operation_duration_seconds, "histogram");
    const count = find(samples, "stackyard_operation_duration_seconds_count", {
      kind: "scale-sidekiq",
      outcome: "succeeded",
    });
    assert.ok(count.length === 1 && count[0]!.value >= 1, JSON.stringify(count));
    const inf = find(samples, "stackyard_operation_duration_seconds_bucket", {
      kind: "scale-sidekiq",
      outcome: "succeeded",
      le: "+Inf",
    });
    assert.equal(inf[0]?.value, count[0]!.value);
    assert.equal(types.stackyard_guard_refusals_total, "counter");
    const bounds = find(samples, "stackyard_guard_refusals_total", {
      rule: "pool-unknown",
      kind: "scale-sidekiq",
      stage: "submit",
    });
    assert.ok(bounds[0] && bounds[0].value >= 1, JSON.stringify(bounds));
  });
});
