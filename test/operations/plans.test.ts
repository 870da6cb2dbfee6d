import * as assert from "node:assert/strict";
import * as path from "node:path";
import { AppError, statusOf } from "../../src/errors";
import { projectRoot } from "../workers/support/service-harness";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import { planAndGuard } from "../../src/operations/planner";
import { OPERATIONS, type OperationKind } from "../../src/operations/registry";
import { StackFileStore } from "../../src/operations/stack-file-store";
import type { SiteConfig } from "../../src/programs/site-config";

// The repo's own stack files are the fixtures: plans are checked against the real stackyard:spec shape.
const store = new StackFileStore(path.resolve(projectRoot));
const load = (site: string): SiteConfig => store.load(site);
// Plans as the service makes them: the operation's plan, then the operation guards with the site's default settings.
const plan = (site: string, kind: OperationKind, params: Record<string, unknown>) => {
  const config = load(site);
  return planAndGuard(config, kind, OPERATIONS[kind].paramsSchema.parse(params), {
    settings: guardSettingsFor(config.site),
    now: new Date(),
    runsLastHour: 0,
  }).plan;
};
const refusal = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  assert.fail("expected a refusal");
};

describe("operation plans on the sites' stack files", () => {
  describe("scale-sidekiq", () => {
    it("turns only the pool count of the one pool, leaving the scheduler alone", () => {
      const p = plan("theatl", "scale-sidekiq", { count: 5 });
      assert.deepEqual(p.changes, [{ path: "sidekiq.pools.main.count", from: 2, to: 5 }]);
      assert.equal((p.nextSpec as { sidekiq: { scheduler: unknown } }).sidekiq.scheduler !== undefined, true);
      assert.equal(p.noop, false);
    });

    it("is a no-op plan when the count is already what is asked (a retry)", () => {
      assert.equal(plan("theatl", "scale-sidekiq", { count: 2 }).noop, true);
    });

    it("refuses more than 6 theATL sidekiq droplets, naming the field and the limit", () => {
      const e = refusal(() => plan("theatl", "scale-sidekiq", { count: 7 }));
      assert.equal(e.code, "GUARD_REFUSED");
      assert.equal(e.details.field, "params.count");
      assert.deepEqual(e.details.limit, { min: 1, max: 6 });
      assert.equal(e.details.rule, "sidekiq-process-bounds");
    });

    it("allows datafruits up to 10 worker replicas", () => {
      assert.equal(plan("datafruits", "scale-sidekiq", { count: 10 }).changes[0]!.to, 10);
    });

    it("answers Insync has no sidekiq (422 with the reason)", () => {
      const e = refusal(() => plan("insync", "scale-sidekiq", { count: 2 }));
      assert.equal(e.code, "OPERATION_UNSUPPORTED");
      assert.equal(statusOf(e.code), 422);
      assert.match(e.message, /beanstalkd/);
    });
  });

  describe("add-read-replica / remove-read-replica", () => {
    it("declares a theATL node sized like the primary and lists it as a replica", () => {
      const p = plan("theatl", "add-read-replica", { name: "pg-c" });
      assert.deepEqual(p.changes, [
        { path: "postgres.replicas", from: ["pg-b"], to: ["pg-b", "pg-c"] },
        { path: "postgres.nodes.pg-c", from: null, to: { size: "s-4vcpu-8gb", volumeGb: 200 } },
      ]);
    });

    it("places an Insync replica in the primary's region", () => {
      const p = plan("insync", "add-read-replica", { name: "db-slave03" });
      const node = p.changes.find((c) => c.path === "mysql.nodes.db-slave03");
      assert.deepEqual(node?.to, { region: "nyc2", size: "s-4vcpu-8gb" });
    });

    it("adds a datafruits managed replica with the cluster's size", () => {
      const p = plan("datafruits", "add-read-replica", { name: "datafruits-pg-r1" });
      assert.deepEqual(p.changes[0]!.to, [{ name: "datafruits-pg-r1", size: "db-s-1vcpu-1gb" }]);
    });

    it("refuses a replica named like the primary", () => {
      assert.equal(
        refusal(() => plan("theatl", "add-read-replica", { name: "pg-a" })).details.rule,
        "replica-is-primary",
      );
    });

    it("refuses a fourth theATL replica", () => {
      const cfg = load("theatl") as Extract<SiteConfig, { site: "theatl" }>;
      for (const n of ["pg-c", "pg-d"]) {
        cfg.spec.postgres.nodes[n] = { size: "s-4vcpu-8gb", volumeGb: 200 };
        cfg.spec.postgres.replicas.push(n);
      }
      const e = refusal(() =>
        planAndGuard(
          cfg,
          "add-read-replica",
          { name: "pg-e" },
          { settings: guardSettingsFor("theatl"), now: new Date(), runsLastHour: 0 },
        ),
      );
      assert.equal(e.details.rule, "replica-limit");
      assert.equal(e.details.limit, 3);
    });

    it("refuses to remove the last standby unless told to", () => {
      assert.equal(
        refusal(() => plan("theatl", "remove-read-replica", { name: "pg-b" })).details.rule,
        "last-standby",
      );
      assert.deepEqual(
        plan("theatl", "remove-read-replica", { name: "pg-b", allowNoStandby: true }).changes,
        [{ path: "postgres.replicas", from: ["pg-b"], to: [] }],
      );
    });

    it("keeps a removed self-managed node declared (it is fenced, not deleted: database hosts are protected)", () => {
      const p = plan("theatl", "remove-read-replica", { name: "pg-b", allowNoStandby: true });
      assert.ok("pg-b" in (p.nextSpec as { postgres: { nodes: object } }).postgres.nodes);
    });

    for (const site of ["vulpine", "chitter"]) {
      it(`answers ${site} has no second database host`, () => {
        assert.equal(
          refusal(() => plan(site, "add-read-replica", { name: "db2" })).code,
          "OPERATION_UNSUPPORTED",
        );
      });
    }
  });

  describe("failover", () => {
    it("flips the primary to the only standby, which leaves the standby set; the old primary is in neither (fenced)", () => {
      const p = plan("theatl", "failover", {});
      assert.deepEqual(p.changes, [
        { path: "postgres.primary", from: "pg-a", to: "pg-b" },
        { path: "postgres.replicas", from: ["pg-b"], to: [] },
      ]);
      assert.deepEqual(p.liveChecks, [
        {
          kind: "standby-ready",
          node: "pg-b",
          maxLagSeconds: 30,
          maxReplayGapBytes: 16 * 1024 * 1024,
          acceptDataLoss: false,
        },
      ]);
    });

    it("fails Insync over from db to db-slave02", () => {
      assert.deepEqual(plan("insync", "failover", { target: "db-slave02" }).changes[0], {
        path: "mysql.primary",
        from: "db",
        to: "db-slave02",
      });
    });

    it("is a no-op when the target already is the primary (a retried failover)", () => {
      assert.equal(plan("theatl", "failover", { target: "pg-a" }).noop, true);
    });

    it("refuses a target that is not a standby, and datafruits with no replica to promote", () => {
      assert.equal(
        refusal(() => plan("theatl", "failover", { target: "pg-z" })).details.rule,
        "target-not-standby",
      );
      assert.equal(refusal(() => plan("datafruits", "failover", {})).details.rule, "no-standby");
    });
  });
});
