import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluateLiveChecks } from "../../src/operations/guards/live-checks";
import { awaitHosts, unconvergedSummary } from "../../src/operations/host-convergence";
import type { LiveDbNode } from "../../src/operations/live-db-node";
import { liveDbSettingsSchema, type LiveDbSettings } from "../../src/operations/live-db-settings";
import { createLiveFacts } from "../../src/operations/live-facts";
import { FAILOVER_MAX_REPLAY_GAP_BYTES } from "../../src/operations/limits";
import { nodeFromRow } from "../../src/operations/postgres-node-facts";
import { ConfigError, loadServiceConfig } from "../../src/service/config";
import { startPostgresPair, type PostgresPair } from "../support/postgres-pair";
import { tempDir } from "../support/temp-dir";

const PASSWORD = "monitor-pw-3f9c1e";
const gate = (maxLagSeconds = 30) => [
  {
    kind: "standby-ready" as const,
    node: "pg-b",
    maxLagSeconds,
    maxReplayGapBytes: FAILOVER_MAX_REPLAY_GAP_BYTES,
    acceptDataLoss: false,
  },
];

/**
 * The failover gates in live mode, read from a real PostgreSQL 15 primary (pg-a) and streaming
 * standby (pg-b) on loopback, through the same settings file and fact source the service uses.
 */
describe("live facts from real PostgreSQL (primary + streaming standby)", function () {
  this.timeout(400_000);
  let pg: PostgresPair;
  let settings: LiveDbSettings;
  const unreachable: string[] = [];

  before(async () => {
    pg = await startPostgresPair("live-facts", PASSWORD);
    settings = liveDbSettingsSchema.parse({
      theatl: {
        engine: "postgresql",
        user: pg.monitor.user,
        password: PASSWORD,
        tls: "disable",
        connectTimeoutMs: 2000,
        nodes: {
          "pg-a": { host: "127.0.0.1", port: pg.primary.port },
          "pg-b": { host: "127.0.0.1", port: pg.standby.port },
        },
      },
    });
  });
  after(() => pg?.remove());

  const facts = () =>
    createLiveFacts(settings, (site, node, error) => unreachable.push(`${site}/${node}: ${error}`));
  const byName = async (): Promise<Record<string, LiveDbNode>> =>
    Object.fromEntries(((await facts().dbNodes("theatl")) ?? []).map((n) => [n.name, n]));
  // Waits for the state, not for a time: the deadline only bounds a hang (30 MB of WAL on a busy
  // machine streams and replays in well over the 15 s a count of polls once allowed).
  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it("reads pg-a as the primary and pg-b as a healthy standby with nothing to replay; the gate passes", async () => {
    pg.primary.sql("INSERT INTO writes (body) VALUES ('hello')");
    const nodes = await until(
      byName,
      (n) => n["pg-b"]?.replayGapBytes === 0 && n["pg-b"]?.replicationLagSeconds === 0,
      "the standby to catch up",
    );
    assert.deepEqual(nodes["pg-a"], {
      name: "pg-a",
      role: "primary",
      replicationLagSeconds: 0,
      healthy: true,
    });
    assert.deepEqual(nodes["pg-b"], {
      name: "pg-b",
      role: "standby",
      replicationLagSeconds: 0,
      replayGapBytes: 0,
      healthy: true,
    });
    const [check] = await evaluateLiveChecks("theatl", gate(), facts());
    assert.equal(check!.ok, true, check!.message);
  });

  it("measures lag and un-replayed WAL while replay is paused; the gate refuses by seconds, then by bytes, and passes once replayed", async () => {
    pg.standby.sql("SELECT pg_wal_replay_pause()");
    try {
      await new Promise((r) => setTimeout(r, 2000));
      // About 30 MB of WAL the standby receives but does not replay.
      pg.primary.sql("INSERT INTO writes (body) SELECT repeat('x', 1000) FROM generate_series(1, 30000)");
      const nodes = await until(
        byName,
        (n) => (n["pg-b"]?.replayGapBytes ?? 0) > FAILOVER_MAX_REPLAY_GAP_BYTES,
        "WAL to arrive unreplayed",
      );
      const b = nodes["pg-b"]!;
      assert.equal(b.healthy, true, b.detail);
      assert.ok(
        b.replicationLagSeconds >= 2,
        `lag ${b.replicationLagSeconds} s since the last replayed commit`,
      );

      const [bySeconds] = await evaluateLiveChecks("theatl", gate(1), facts());
      assert.equal(bySeconds!.ok, false);
      assert.equal(bySeconds!.rule, "standby-lag");
      assert.equal(bySeconds!.limit, 1);
      const [byBytes] = await evaluateLiveChecks("theatl", gate(30), facts());
      assert.equal(byBytes!.ok, false);
      assert.equal(byBytes!.rule, "standby-lag");
      assert.equal(byBytes!.limit, FAILOVER_MAX_REPLAY_GAP_BYTES);
      assert.ok(Number(byBytes!.value) > FAILOVER_MAX_REPLAY_GAP_BYTES);
      assert.match(byBytes!.message, /holds \d+ bytes of WAL it has not replayed; the limit is 16777216/);
    } finally {
      pg.standby.sql("SELECT pg_wal_replay_resume()");
    }
    await until(
      byName,
      (n) => n["pg-b"]?.replayGapBytes === 0 && n["pg-b"]?.replicationLagSeconds === 0,
      "the standby to replay",
    );
    const [check] = await evaluateLiveChecks("theatl", gate(), facts());
    assert.equal(check!.ok, true, check!.message);
    assert.equal(pg.standby.sql("SELECT count(*) FROM writes"), "30001");
  });

  it("leaves nodes it cannot log in to unobserved, and never shows the password", async () => {
    const wrong = liveDbSettingsSchema.parse({
      theatl: { ...settings.theatl, password: "not-the-password-7d2a" },
    });
    const errors: string[] = [];
    const nodes = await createLiveFacts(wrong, (_s, node, error) => errors.push(`${node}: ${error}`)).dbNodes(
      "theatl",
    );
    assert.deepEqual(nodes, []);
    assert.equal(errors.length, 2);
    assert.match(errors.join("\n"), /password authentication failed for user "stackyard_monitor"/);
    assert.doesNotMatch(errors.join("\n"), /not-the-password-7d2a|monitor-pw-3f9c1e/);
    const [check] = await evaluateLiveChecks("theatl", gate(), createLiveFacts(wrong));
    assert.deepEqual([check!.ok, check!.value], [false, "unobserved"]);
  });

  it("reports the standby unhealthy once its primary is gone (WAL receiver not streaming); the gate refuses", async () => {
    pg.primary.stop();
    const nodes = await until(byName, (n) => n["pg-b"]?.healthy === false, "the standby to lose its primary");
    assert.equal(nodes["pg-a"], undefined, "the stopped primary is unobserved");
    assert.ok(
      unreachable.some((u) => u.startsWith("theatl/pg-a: ")),
      unreachable.join("\n"),
    );
    assert.match(nodes["pg-b"]!.detail!, /^WAL receiver is .* \(limit: streaming\)$/);
    const [check] = await evaluateLiveChecks("theatl", gate(), facts());
    assert.deepEqual([check!.ok, check!.rule, check!.value], [false, "standby-ready", "unhealthy"]);
    assert.match(check!.message, /standby pg-b is unhealthy: WAL receiver is/);
  });

  it("the verify phase reads the same facts: before pg-b is promoted a failover to it has not converged; after, it has", async () => {
    const failover = { primary: "pg-b", standbys: [], fenced: ["pg-a"], maxLagSeconds: 30 };
    const wait = { timeoutMs: 600, intervalMs: 200 };
    const before = await awaitHosts("theatl", failover, facts(), wait);
    assert.equal(before.converged, false);
    assert.ok(before.rounds >= 2);
    assert.match(unconvergedSummary(before), /pg-b: expected primary, observed standby, unhealthy/);
    pg.standby.sql("SELECT pg_promote(true, 30)");
    const after = await awaitHosts("theatl", failover, facts(), { timeoutMs: 15_000, intervalMs: 200 });
    assert.equal(after.converged, true, unconvergedSummary(after));
    assert.deepEqual(
      after.observations.map((o) => [o.node, o.observed, o.ok]),
      [
        ["pg-b", "primary, healthy", true],
        ["pg-a", "unobserved", true],
      ],
    );
  });
});

describe("live database settings (STACKYARD_LIVE_DB_FILE)", () => {
  const tmp = tempDir("live-db-settings");
  after(() => tmp.remove());
  const file = (body: unknown) => {
    const f = path.join(tmp.dir, `live-db-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, typeof body === "string" ? body : JSON.stringify(body));
    return f;
  };
  const live = (f: string) => ({
    STACKYARD_MODE: "live",
    STACKYARD_TOKENS: "[]",
    PULUMI_CONFIG_PASSPHRASE: "p",
    STACKYARD_LIVE_DB_FILE: f,
    STACKYARD_STATE_DIR: tmp.dir,
  });
  const theatl = {
    engine: "postgresql",
    user: "m",
    password: "s3cret-value",
    nodes: { "pg-a": { host: "10.10.0.5" } },
  };

  it("loads a PostgreSQL site with defaults (port 5432, verify-full TLS, 60 s receiver silence)", () => {
    const cfg = loadServiceConfig(live(file({ theatl })));
    assert.deepEqual(cfg.liveDb.theatl!.nodes["pg-a"], { host: "10.10.0.5", port: 5432 });
    assert.equal(cfg.liveDb.theatl!.tls, "verify-full");
    assert.equal(cfg.liveDb.theatl!.maxReceiverSilenceSeconds, 60);
  });

  it("refuses MySQL and managed sites, unknown keys and bad JSON, naming the key and never echoing a value", () => {
    const refused = (body: unknown, re: RegExp) =>
      assert.throws(
        () => loadServiceConfig(live(file(body))),
        (e: Error) => e instanceof ConfigError && re.test(e.message) && !/s3cret-value/.test(e.message),
      );
    refused({ insync: theatl }, /insync: live facts read self-managed PostgreSQL only/);
    refused({ theatl: { ...theatl, pasword: "x" } }, /theatl: .*"pasword"/);
    refused({ theatl: { ...theatl, nodes: {} } }, /theatl\.nodes: at least one node/);
    refused('{ "theatl": { "password": "s3cret-value"', /STACKYARD_LIVE_DB_FILE .*: not valid JSON$/);
  });

  it("is a live-mode setting: the sandbox refuses it", () => {
    assert.throws(
      () => loadServiceConfig({ STACKYARD_TOKENS: "[]", STACKYARD_LIVE_DB_FILE: file({ theatl }) }),
      /STACKYARD_LIVE_DB_FILE: only read in live mode/,
    );
  });

  it("refuses the failover gate for a site it cannot observe: not configured (PostgreSQL) or not implemented (MySQL, managed)", async () => {
    const facts = createLiveFacts({});
    await assert.rejects(facts.dbNodes("theatl"), (e: any) => e.code === "LIVE_FACTS_NOT_CONFIGURED");
    await assert.rejects(facts.dbNodes("insync"), (e: any) => e.code === "LIVE_FACTS_NOT_IMPLEMENTED");
    await assert.rejects(facts.dbNodes("datafruits"), (e: any) => e.code === "LIVE_FACTS_NOT_IMPLEMENTED");
  });
});

describe("a PostgreSQL facts row as a node", () => {
  const row = {
    in_recovery: true,
    receiver_status: "streaming",
    receiver_silence_s: 2,
    lag_s: 0,
    gap_bytes: 0,
  };
  it("a standby silent for longer than the limit is unhealthy, naming the limit", () => {
    const n = nodeFromRow("pg-b", { ...row, receiver_silence_s: 75.4 }, 60);
    assert.deepEqual([n.healthy, n.detail], [false, "last message from the primary 75 s ago (limit: 60 s)"]);
    assert.equal(nodeFromRow("pg-b", { ...row, receiver_silence_s: 59 }, 60).healthy, true);
  });
  it("a standby that received WAL but replayed no transaction yet is unhealthy, not 'lag 0'", () => {
    const n = nodeFromRow("pg-b", { ...row, lag_s: null, gap_bytes: 4096 }, 60);
    assert.deepEqual(
      [n.healthy, n.replayGapBytes, n.detail],
      [false, 4096, "WAL received but no transaction replayed yet"],
    );
  });
  it("a node out of recovery is a primary, whatever the config calls it", () => {
    assert.deepEqual(nodeFromRow("pg-b", { ...row, in_recovery: false, receiver_status: null }, 60), {
      name: "pg-b",
      role: "primary",
      replicationLagSeconds: 0,
      healthy: true,
    });
  });
});
