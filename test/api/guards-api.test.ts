import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { guardSettingsFor, type GuardOverrides } from "../../src/operations/guards/guard-settings";
import { DEFAULT_GUARD_SETTINGS } from "../../src/operations/guards/guard-settings";
import { startApiHarness, type ApiHarness } from "./api-harness";

/**
 * Layer 2 through the API, at submit: every guard passes a request and trips another. A trip
 * answers 422 GUARD_REFUSED with the rule, the value and the limit, and nothing is queued or
 * written (no worker runs here; the stack file stays as it was).
 */
describe("operation guards through the API (submit)", function () {
  this.timeout(120_000);
  let h: ApiHarness;
  let overrides: GuardOverrides = {};
  let now = new Date("2026-06-03T12:00:00Z"); // a Wednesday
  const stackFile = (site: string) =>
    fs.readFileSync(path.join(h.workspace, "stacks", `Pulumi.${site}.yaml`), "utf8");

  before(async () => {
    h = await startApiHarness({
      guards: (ledger) => ({
        settings: (site) => guardSettingsFor(site, overrides),
        now: () => now,
        runsLastHour: (site, exclude) => ledger.runsSince(site, now.getTime() - 3600_000, exclude),
      }),
    });
  });
  after(async () => h?.close());
  beforeEach(() => {
    overrides = {};
    now = new Date("2026-06-03T12:00:00Z");
  });

  /** Submits, expects a refusal by `rule`, and checks nothing was queued or written. */
  async function trips(site: string, operation: string, params: Record<string, unknown>, rule: string) {
    const before = { file: stackFile(site), jobs: (await h.queues.counts())[site] };
    const r = await h.client("admin").post(`/v1/sites/${site}/operations`, { operation, params });
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "GUARD_REFUSED");
    assert.equal(r.body.error.details.rule, rule);
    assert.ok(
      "value" in r.body.error.details && "limit" in r.body.error.details,
      JSON.stringify(r.body.error.details),
    );
    assert.equal(stackFile(site), before.file, "stack file unchanged");
    assert.equal((await h.queues.counts())[site], before.jobs, "nothing queued");
    return r.body.error.details;
  }

  async function passes(site: string, operation: string, params: Record<string, unknown>) {
    const r = await h.client("admin").post(`/v1/sites/${site}/operations`, { operation, params });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await h.client("admin").post(`/v1/operations/${r.body.id}/cancel`);
    return r.body;
  }

  it("sidekiq-process-bounds: 6 theATL droplets pass, 7 are refused", async () => {
    await passes("theatl", "scale-sidekiq", { count: 6 });
    const d = await trips("theatl", "scale-sidekiq", { count: 7 }, "sidekiq-process-bounds");
    assert.deepEqual([d.value, d.limit], [7, { min: 1, max: 6 }]);
  });

  it("db-connection-budget: refused once sidekiq threads push past 0.8 × (max_connections − 3)", async () => {
    overrides = {
      theatl: { connections: { ...DEFAULT_GUARD_SETTINGS.theatl.connections!, maxConnections: 120 } },
    };
    await passes("theatl", "scale-sidekiq", { count: 2 });
    const d = await trips("theatl", "scale-sidekiq", { count: 3 }, "db-connection-budget");
    assert.deepEqual([d.value, d.limit], [105, 93]);
  });

  it("replica-limit: a second theATL replica passes by default, not under a limit of 1", async () => {
    await passes("theatl", "add-read-replica", { name: "pg-c" });
    overrides = { theatl: { replicas: { max: 1, why: "test" } } };
    const d = await trips("theatl", "add-read-replica", { name: "pg-c" }, "replica-limit");
    assert.deepEqual([d.value, d.limit], [2, 1]);
  });

  it("monthly-cost-ceiling: theATL at $297 passes a $300 ceiling, at $321 it is refused", async () => {
    overrides = { theatl: { cost: { ...DEFAULT_GUARD_SETTINGS.theatl.cost, monthlyCeiling: 300 } } };
    await passes("theatl", "scale-sidekiq", { count: 3 });
    const d = await trips("theatl", "scale-sidekiq", { count: 4 }, "monthly-cost-ceiling");
    assert.deepEqual([d.value, d.limit], [321, 300]);
  });

  it("change-window: inside Sunday 08:00–10:00 UTC passes, Wednesday noon is refused, failover goes through as an emergency", async () => {
    overrides = { theatl: { changeWindows: [{ days: [0], start: "08:00", end: "10:00" }] } };
    now = new Date("2026-06-07T09:00:00Z");
    await passes("theatl", "scale-sidekiq", { count: 3 });
    now = new Date("2026-06-03T12:00:00Z");
    const d = await trips("theatl", "scale-sidekiq", { count: 3 }, "change-window");
    assert.deepEqual(d.limit, ["Sun 08:00–10:00 UTC"]);
    await passes("theatl", "failover", { target: "pg-b" });
  });

  it("operations-per-hour: refused once the site ran its limit within the hour", async () => {
    overrides = { vulpine: { maxOperationsPerHour: 2 } };
    await h.ledger.recordRun("vulpine", "op-rate-1", now.getTime() - 30 * 60_000);
    await passes("vulpine", "scale-sidekiq", { count: 2 });
    await h.ledger.recordRun("vulpine", "op-rate-2", now.getTime() - 10 * 60_000);
    const d = await trips("vulpine", "scale-sidekiq", { count: 2 }, "operations-per-hour");
    assert.deepEqual([d.value, d.limit], [3, 2]);
    now = new Date(now.getTime() + 31 * 60_000); // the first run leaves the window
    await passes("vulpine", "scale-sidekiq", { count: 2 });
  });

  it("scheduler-runs-once: a stack file that puts scheduler in a pool is refused before any guard plans on it", async () => {
    // The schema refuses this layout when the file is read; the guard (tested pure) covers planned configs.
    const file = path.join(h.workspace, "stacks", "Pulumi.vulpine.yaml");
    const text = fs.readFileSync(file, "utf8");
    fs.writeFileSync(
      file,
      text.replace(
        "queues: [default, push, ingress, mailers, pull]",
        "queues: [default, push, ingress, mailers, pull, scheduler]",
      ),
    );
    try {
      const r = await h
        .client("admin")
        .post("/v1/sites/vulpine/operations", { operation: "scale-sidekiq", params: { count: 2 } });
      assert.equal(r.body.error.code, "STACK_CONFIG_INVALID");
      assert.match(r.body.error.details.problems[0], /"scheduler" must run in exactly one process/);
    } finally {
      fs.writeFileSync(file, text);
    }
  });

  it("scheduler-runs-once: a paused catch-up pool that lists scheduler may stay at 0; scaling it to 1 is refused (2 processes)", async () => {
    // A queue split copied from the one-process example, scheduler included, kept paused until a backlog.
    const file = path.join(h.workspace, "stacks", "Pulumi.vulpine.yaml");
    const text = fs.readFileSync(file, "utf8");
    const catchup =
      "        catchup:\n          count: 0\n          threads: 5\n          queues: [default, push, ingress, mailers, pull, scheduler]\n";
    const edited = text.replace("      pools:\n", `      pools:\n${catchup}`);
    assert.notEqual(edited, text, "the pool was added");
    fs.writeFileSync(file, edited);
    try {
      await passes("vulpine", "scale-sidekiq", { pool: "main", count: 2 });
      const d = await trips("vulpine", "scale-sidekiq", { pool: "catchup", count: 1 }, "scheduler-runs-once");
      assert.deepEqual([d.value, d.limit], [2, 1]);
    } finally {
      fs.writeFileSync(file, text);
    }
  });

  it("marks failover, and any plan over the site's cost-delta threshold, as awaiting approval after preview", async () => {
    const fo = await passes("theatl", "failover", { target: "pg-b" });
    assert.deepEqual(fo.approval.reasons, ["failover is marked risky for theatl"]);
    const small = await passes("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(small.approval, undefined, "+$24 is under the $100 threshold");
    overrides = { theatl: { cost: { ...DEFAULT_GUARD_SETTINGS.theatl.cost, approvalDelta: 10 } } };
    const big = await passes("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(big.approval.costDelta, 24);
    assert.match(big.approval.reasons[0], /raises the monthly cost by 24.00 USD; approval above 10/);
  });
});
