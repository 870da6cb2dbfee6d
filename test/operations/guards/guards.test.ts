import * as assert from "node:assert/strict";
import { changeWindow, inWindow } from "../../../src/operations/guards/change-window";
import { connectionBudget } from "../../../src/operations/guards/connection-budget";
import { costCeiling, costDelta } from "../../../src/operations/guards/cost-ceiling";
import {
  DEFAULT_GUARD_SETTINGS,
  guardSettingsFor,
  parseGuardOverrides,
} from "../../../src/operations/guards/guard-settings";
import { refusalsOf, type Verdict } from "../../../src/operations/verdict";
import { operationRate } from "../../../src/operations/guards/operation-rate";
import { replicaLimit } from "../../../src/operations/guards/replica-limit";
import { schedulerSingleton } from "../../../src/operations/guards/scheduler-singleton";
import { sidekiqBounds } from "../../../src/operations/guards/sidekiq-bounds";
import { primaryIs, standbyReady } from "../../../src/operations/guards/standby-ready";
import { evaluateGuards } from "../../../src/operations/guards/evaluate-guards";
import { siteMonthlyCost } from "../../../src/operations/pricing/site-cost";
import { SITE_IDS } from "../../../src/programs/site-config";
import { guardInput, siteConfig } from "./guard-fixtures";

const refused = (o: Verdict) => {
  assert.equal(o.ok, false, `expected a refusal, got: ${o.message}`);
  return o as Extract<Verdict, { ok: false }>;
};
const passed = (o: Verdict) => assert.equal(o.ok, true, o.message);

describe("operation guards (pure)", () => {
  it("every site's stack file passes every guard as it is (the defaults fit the seeds)", () => {
    for (const site of SITE_IDS) {
      const kind = site === "insync" ? "add-read-replica" : "scale-sidekiq";
      const params = site === "insync" ? { name: "db-slave03" } : { count: 1 };
      const r = refusalsOf(evaluateGuards(guardInput(site, kind, params)));
      assert.deepEqual(r, [], site);
    }
  });

  describe("sidekiq-process-bounds", () => {
    it("passes theATL at 6 pool processes and refuses 7, naming the range for the pool", () => {
      passed(sidekiqBounds.check(guardInput("theatl", "scale-sidekiq", { count: 6 })));
      const r = refused(sidekiqBounds.check(guardInput("theatl", "scale-sidekiq", { count: 7 })));
      assert.deepEqual([r.rule, r.value, r.limit], ["sidekiq-process-bounds", 7, { min: 1, max: 6 }]);
    });
    it("follows a per-site override", () => {
      const r = refused(
        sidekiqBounds.check(
          guardInput(
            "theatl",
            "scale-sidekiq",
            { count: 4 },
            { settings: { sidekiq: { min: 1, max: 3, why: "test" } } },
          ),
        ),
      );
      assert.deepEqual(r.limit, { min: 1, max: 3 });
    });
  });

  describe("scheduler-runs-once", () => {
    it("passes the dedicated scheduler process and refuses a pool that also listens on scheduler", () => {
      passed(schedulerSingleton.check(guardInput("vulpine", "scale-sidekiq", { count: 3 })));
      const config = siteConfig("vulpine", (s) => s.sidekiq.pools.main.queues.push("scheduler"));
      const r = refused(
        schedulerSingleton.check(guardInput("vulpine", "scale-sidekiq", { count: 3 }, { config })),
      );
      assert.deepEqual([r.value, r.limit], [4, 1]);
    });
  });

  describe("db-connection-budget", () => {
    it("counts sidekiq threads, web and streaming pools against 0.8 × (max_connections − 3)", () => {
      // theATL at 3 pool processes: 5 + 3×25 sidekiq + 10 web + 10 streaming + 5 admin = 105.
      const ok = connectionBudget.check(guardInput("theatl", "scale-sidekiq", { count: 3 }));
      passed(ok);
      assert.match(ok.message, /105 connections/);
      const tight = { connections: { ...DEFAULT_GUARD_SETTINGS.theatl.connections!, maxConnections: 120 } };
      const r = refused(
        connectionBudget.check(guardInput("theatl", "scale-sidekiq", { count: 3 }, { settings: tight })),
      );
      assert.deepEqual([r.rule, r.value, r.limit], ["db-connection-budget", 105, 93]);
    });
  });

  describe("replica-limit", () => {
    it("passes a third theATL replica and refuses a fourth", () => {
      const two = siteConfig("theatl", (s) => {
        s.postgres.nodes["pg-c"] = { size: "s-4vcpu-8gb", volumeGb: 200 };
        s.postgres.replicas.push("pg-c");
      });
      passed(replicaLimit.check(guardInput("theatl", "add-read-replica", { name: "pg-d" }, { config: two })));
      const three = siteConfig("theatl", (s) => {
        for (const n of ["pg-c", "pg-d"]) {
          s.postgres.nodes[n] = { size: "s-4vcpu-8gb", volumeGb: 200 };
          s.postgres.replicas.push(n);
        }
      });
      const r = refused(
        replicaLimit.check(guardInput("theatl", "add-read-replica", { name: "pg-e" }, { config: three })),
      );
      assert.deepEqual([r.value, r.limit], [4, 3]);
    });
  });

  describe("monthly-cost-ceiling", () => {
    it("prices theATL from the table: droplets, volumes and Spaces", () => {
      const c = siteMonthlyCost(siteConfig("theatl"), "USD");
      // web 24 + scheduler 24 + 2×24 sidekiq + 2×48 pg + 2×20 volumes + redis/nginx/haproxy 3×12 + Spaces 5.
      assert.equal(c.total, 273);
      assert.deepEqual(c.unpriced, []);
    });
    it("passes a plan under the ceiling, refuses one over it, and never refuses a plan that lowers the cost", () => {
      passed(costCeiling.check(guardInput("theatl", "scale-sidekiq", { count: 6 })));
      const low = { cost: { ...DEFAULT_GUARD_SETTINGS.theatl.cost, monthlyCeiling: 300 } };
      const r = refused(
        costCeiling.check(guardInput("theatl", "scale-sidekiq", { count: 4 }, { settings: low })),
      );
      assert.deepEqual([r.rule, r.value, r.limit], ["monthly-cost-ceiling", 321, 300]);
      const lower = { cost: { ...DEFAULT_GUARD_SETTINGS.theatl.cost, monthlyCeiling: 100 } };
      passed(costCeiling.check(guardInput("theatl", "scale-sidekiq", { count: 1 }, { settings: lower })));
    });
    it("bills datafruits' three load balancers; two read replicas fit its ceiling, the research's $150 would refuse the first", () => {
      const c = siteMonthlyCost(siteConfig("datafruits"), "USD");
      assert.deepEqual(
        c.lines.filter((l) => /load balancer/.test(l.item)).map((l) => l.item),
        ["ingress load balancer", "rtmp-ingest load balancer", "liquidsoap-harbor load balancer"],
      );
      assert.equal(c.total, 143);
      const one = siteConfig("datafruits", (s) =>
        s.database.replicas.push({ name: "datafruits-pg-r1", size: "db-s-1vcpu-1gb" } as never),
      );
      passed(
        costCeiling.check(
          guardInput("datafruits", "add-read-replica", { name: "datafruits-pg-r2" }, { config: one }),
        ),
      );
      const research = { cost: { ...DEFAULT_GUARD_SETTINGS.datafruits.cost, monthlyCeiling: 150 } };
      const r = refused(
        costCeiling.check(
          guardInput("datafruits", "add-read-replica", { name: "datafruits-pg-r1" }, { settings: research }),
        ),
      );
      assert.deepEqual([r.rule, r.value, r.limit], ["monthly-cost-ceiling", 158, 150]);
    });
    it("compares chitter in EUR and refuses a size the price table does not know", () => {
      assert.equal(siteMonthlyCost(siteConfig("chitter"), "EUR").currency, "EUR");
      const config = siteConfig("datafruits", (s) => (s.database.size = "db-s-16vcpu-64gb"));
      const r = refused(
        costCeiling.check(guardInput("datafruits", "scale-sidekiq", { count: 2 }, { config })),
      );
      assert.match(r.message, /no list price for digitalocean db-s-16vcpu-64gb/);
    });
    it("reports the cost delta of a plan (the approval threshold reads it)", () => {
      assert.equal(costDelta(guardInput("theatl", "scale-sidekiq", { count: 5 })), 72);
    });
  });

  describe("change-window", () => {
    const sunday = { changeWindows: [{ days: [0], start: "08:00", end: "10:00" }] };
    it("passes inside the window and refuses outside, naming the window", () => {
      passed(
        changeWindow.check(
          guardInput(
            "theatl",
            "scale-sidekiq",
            { count: 3 },
            { settings: sunday, now: new Date("2026-06-07T09:30:00Z") },
          ),
        ),
      );
      const r = refused(
        changeWindow.check(
          guardInput(
            "theatl",
            "scale-sidekiq",
            { count: 3 },
            { settings: sunday, now: new Date("2026-06-03T12:00:00Z") },
          ),
        ),
      );
      assert.deepEqual(r.limit, ["Sun 08:00–10:00 UTC"]);
    });
    it("lets a failover through outside the window as an emergency, and says so", () => {
      const o = changeWindow.check(
        guardInput(
          "theatl",
          "failover",
          { target: "pg-b" },
          { settings: sunday, now: new Date("2026-06-03T12:00:00Z") },
        ),
      );
      passed(o);
      assert.match(o.message, /outside the change windows .* allowed as an emergency/);
    });
    it("handles windows that run past midnight", () => {
      const w = { days: [5], start: "22:00", end: "02:00" };
      assert.ok(inWindow(w, new Date("2026-06-05T23:00:00Z")), "Friday 23:00");
      assert.ok(inWindow(w, new Date("2026-06-06T01:00:00Z")), "Saturday 01:00");
      assert.ok(!inWindow(w, new Date("2026-06-06T03:00:00Z")));
    });
  });

  describe("operations-per-hour", () => {
    it("passes the 20th run of the hour and refuses the 21st", () => {
      passed(operationRate.check(guardInput("theatl", "scale-sidekiq", { count: 3 }, { runsLastHour: 19 })));
      const r = refused(
        operationRate.check(guardInput("theatl", "scale-sidekiq", { count: 3 }, { runsLastHour: 20 })),
      );
      assert.deepEqual([r.value, r.limit], [21, 20]);
    });
  });

  describe("failover gates", () => {
    const check = {
      kind: "standby-ready" as const,
      node: "pg-b",
      maxLagSeconds: 30,
      maxReplayGapBytes: 16777216,
      acceptDataLoss: false,
    };
    const node = (lag: number, healthy = true) => [
      { name: "pg-b", role: "standby" as const, replicationLagSeconds: lag, healthy },
    ];
    it("passes a healthy standby within the lag limit", () => passed(standbyReady(check, node(3))));
    it("refuses failover when standby lag exceeds 30 s, with value and limit", () => {
      const r = refused(standbyReady(check, node(45)));
      assert.deepEqual([r.rule, r.value, r.limit], ["standby-lag", 45, 30]);
    });
    it("refuses a standby holding more un-replayed WAL than the limit (16 MiB), unless acceptDataLoss", () => {
      const behind = [
        {
          name: "pg-b",
          role: "standby" as const,
          replicationLagSeconds: 2,
          healthy: true,
          replayGapBytes: 20 * 1024 * 1024,
        },
      ];
      const r = refused(standbyReady(check, behind));
      assert.deepEqual([r.rule, r.value, r.limit], ["standby-lag", 20 * 1024 * 1024, 16 * 1024 * 1024]);
      passed(standbyReady({ ...check, acceptDataLoss: true }, behind));
      passed(standbyReady(check, [{ ...behind[0]!, replayGapBytes: 1024 }]));
    });
    it("refuses an unhealthy or unobserved standby", () => {
      assert.equal(refused(standbyReady(check, node(0, false))).rule, "standby-ready");
      assert.equal(refused(standbyReady(check, undefined)).value, "unobserved");
    });
    it("refuses when the live primary is not the configured one", () => {
      assert.equal(
        refused(
          primaryIs({ kind: "primary-is", node: "pg-a" }, [
            { name: "pg-a", role: "standby", replicationLagSeconds: 0, healthy: true },
          ]),
        ).value,
        "standby",
      );
    });
  });

  describe("settings", () => {
    it("overrides a site's setting from the overrides file and refuses unknown keys", () => {
      const o = parseGuardOverrides({ theatl: { maxOperationsPerHour: 3 } });
      assert.equal(guardSettingsFor("theatl", o).maxOperationsPerHour, 3);
      assert.equal(guardSettingsFor("theatl", o).sidekiq?.max, 6);
      assert.throws(() => parseGuardOverrides({ theatl: { maxOpsPerHour: 3 } }), /theatl/);
    });
  });
});
