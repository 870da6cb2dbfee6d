import assert from "node:assert/strict";
import * as fs from "node:fs";
import { runSite, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import { shellCheck } from "./support/rendered-host";
import { startDbSim, type DbSim, type DeployRun, type SimHost } from "./support/role-agent-hosts";
import { theatlHost, type TheatlHost } from "./support/theatl-host";

const fileOf = (h: TheatlHost, p: string): string => {
  const f = [...h.host.files, ...h.pulled].find((x) => x.path === p);
  if (!f) throw new Error(`${h.droplet} has no ${p}`);
  return f.content;
};

async function waitFor(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const receiver = (h: SimHost) => h.sql("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')");
const count = (h: SimHost) => Number(h.sql("SELECT count(*) FROM toots"));
/** The data directories a host has kept aside (old primaries' data, never deleted). */
const keptAside = (h: SimHost) => fs.readdirSync(h.dir).filter((n) => n.startsWith("data.pre-rejoin-"));

async function deployed(h: SimHost, role: string): Promise<DeployRun> {
  const r = await h.deploy();
  assert.ok(r.ok, `${h.name}: deploy failed\n${r.stderr}`);
  assert.match(r.roleEnv, new RegExp(`^PG_ROLE=${role}$`, "m"), `${h.name}: ${r.roleEnv}`);
  return r;
}

describe("theATL database role agent, on real PostgreSQL", function () {
  this.timeout(300_000);
  let run: Run;
  let sim: DbSim | undefined;
  before(async () => {
    run = await runSite(configFor("theatl"));
  });
  after(async () => sim?.remove());

  it("converges each host to its current role tag: new standby, failover, failback, and again with nothing to do", async () => {
    const pgA = theatlHost(run, "pg-a");
    const pgB = theatlHost(run, "pg-b");
    const roleEnv = fileOf(pgB, "/opt/stackyard/role-env");
    const deploy = fileOf(pgB, "/opt/stackyard/deploy");
    assert.equal(fileOf(pgA, "/opt/stackyard/role-env"), roleEnv, "one hook for every database host");
    assert.ok(shellCheck(roleEnv).ok, shellCheck(roleEnv).output);
    sim = await startDbSim({
      roleEnv,
      deploy,
      hostEnv: fileOf(pgB, "/opt/mastodon/host.env"),
      postgresqlConf: fileOf(pgB, "/opt/mastodon/postgresql.conf"),
      pgHba: fileOf(pgB, "/opt/mastodon/pg_hba.conf"),
      replicationSql: fileOf(pgB, "/opt/mastodon/replication.sql"),
      compose: fileOf(pgB, "/opt/mastodon/docker-compose.yml"),
    });
    const tagged = (h: TheatlHost, role: string) => [
      ...h.tags.filter((t) => !t.startsWith("role:")),
      `role:${role}`,
    ];
    const a = await sim.host("pg-a", tagged(pgA, "pg-primary"));
    const b = await sim.host("pg-b", tagged(pgB, "pg-standby"));
    let written = 0;
    const write = (h: SimHost, phase: string, n: number) => {
      h.sql(`INSERT INTO toots (body) SELECT '${phase} ' || g FROM generate_series(1, ${n}) g`);
      written += n;
    };
    const times: Record<string, number> = {};
    const timed = async <T>(step: string, fn: () => T | Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const out = await fn();
      times[step] = Date.now() - t0;
      return out;
    };

    // The first primary: an empty data directory, started by compose as the image initialises it.
    sim.pointPrimaryAt(a);
    await timed("pg-a first start as primary", () => deployed(a, "primary"));
    assert.equal(a.sql("SELECT pg_is_in_recovery()"), "f");
    a.sql("CREATE TABLE toots (id bigserial PRIMARY KEY, body text)");
    write(a, "before-standby", 100);

    // a. pg-b, tagged standby with an empty data directory, becomes a streaming standby of pg-a.
    await timed("a. pg-b new standby", async () => {
      await deployed(b, "standby");
      await waitFor("pg-b to stream from pg-a", () => receiver(b) === "streaming");
    });
    assert.equal(b.sql("SELECT pg_is_in_recovery()"), "t");
    assert.ok(fs.existsSync(`${b.data}/standby.signal`));
    write(a, "phase-a", 100);
    await waitFor("pg-a's rows on pg-b", () => count(b) === written);

    // b. Failover: pg-b primary, pg-a fenced. pg-a holds (its deploy stops it), pg-b is promoted.
    const beforeFailover = written;
    const failoverStart = Date.now();
    a.setTags(tagged(pgA, "pg-fenced"));
    b.setTags(tagged(pgB, "pg-primary"));
    await timed("b. pg-a fenced", async () => {
      const r = await deployed(a, "fenced");
      assert.match(r.roleEnv, /^STACKYARD_HOLD=1$/m);
    });
    assert.equal(a.running(), false, "the fenced host's server is stopped");
    const promoted = await timed("b. pg-b promoted", () => deployed(b, "primary"));
    assert.match(promoted.stderr, /promoting the running standby/);
    sim.pointPrimaryAt(b);
    assert.equal(b.sql("SELECT pg_is_in_recovery()"), "f");
    const foundAfterFailover = count(b);
    write(b, "phase-b", 100);
    const failoverMs = Date.now() - failoverStart;
    assert.equal(fs.existsSync(`${b.data}/standby.signal`), false);
    console.log(
      `      failover (retag → pg-b writable): ${failoverMs} ms; rows written before it ${beforeFailover}, found on pg-b ${foundAfterFailover}`,
    );
    assert.equal(foundAfterFailover, beforeFailover, "every row written before the failover is on pg-b");

    // c. Failback. pg-a, an old primary, is retagged standby: it is stopped, kept aside, re-based from pg-b.
    a.setTags(tagged(pgA, "pg-standby"));
    await timed("c. pg-a rejoins as standby", async () => {
      assert.match(
        (await deployed(a, "standby")).stderr,
        /without standby\.signal; stopping it and keeping it/,
      );
      await waitFor("pg-a to stream from pg-b", () => receiver(a) === "streaming");
    });
    assert.equal(a.sql("SELECT pg_is_in_recovery()"), "t");
    const aside = keptAside(a);
    assert.equal(aside.length, 1, `pg-a's old data is kept aside: ${aside}`);
    assert.ok(fs.existsSync(`${a.dir}/${aside[0]}/PG_VERSION`));
    assert.equal(fs.existsSync(`${a.dir}/${aside[0]}/standby.signal`), false);
    write(b, "phase-c-on-pg-b", 100);
    await waitFor("pg-b's rows on pg-a", () => count(a) === written);

    // Then pg-a primary again, pg-b standby: pg-a is promoted, pg-b (now the old primary) re-based from it.
    const switchStart = Date.now();
    a.setTags(tagged(pgA, "pg-primary"));
    b.setTags(tagged(pgB, "pg-standby"));
    assert.match((await timed("c. pg-a promoted", () => deployed(a, "primary"))).stderr, /promoting/);
    sim.pointPrimaryAt(a);
    assert.equal(a.sql("SELECT pg_is_in_recovery()"), "f");
    times["c. switchover (retag → pg-a writable)"] = Date.now() - switchStart;
    await timed("c. pg-b rejoins as standby", async () => {
      assert.match((await deployed(b, "standby")).stderr, /stopping it and keeping it/);
      await waitFor("pg-b to stream from pg-a", () => receiver(b) === "streaming");
    });
    assert.equal(b.sql("SELECT pg_is_in_recovery()"), "t");
    assert.equal(keptAside(b).length, 1, "pg-b's old data is kept aside");
    write(a, "phase-c-on-pg-a", 100);
    await waitFor("pg-a's rows on pg-b", () => count(b) === written);
    const phases = a.sql(
      "SELECT string_agg(p, ',' ORDER BY p) FROM (SELECT DISTINCT split_part(body, ' ', 1) p FROM toots) s",
    );
    assert.equal(phases, "before-standby,phase-a,phase-b,phase-c-on-pg-a,phase-c-on-pg-b");
    console.log(
      `      rows written ${written}, found on the final primary pg-a ${count(a)}, on pg-b ${count(b)}`,
    );
    assert.equal(count(a), written);

    // d. Idempotence: another run of each host's deploy in the converged state changes nothing.
    const state = (h: SimHost) => ({
      recovery: h.sql("SELECT pg_is_in_recovery()"),
      started: h.sql("SELECT pg_postmaster_start_time()"),
      timeline: h.sql("SELECT timeline_id FROM pg_control_checkpoint()"),
      dirs: fs.readdirSync(h.dir).sort(),
    });
    const before = { a: state(a), b: state(b) };
    await timed("d. both again", async () => {
      for (const [h, role] of [
        [a, "primary"],
        [b, "standby"],
      ] as const) {
        const r = await deployed(h, role);
        assert.doesNotMatch(r.stderr, /role agent:/, `${h.name} did something: ${r.stderr}`);
      }
    });
    assert.deepEqual({ a: state(a), b: state(b) }, before);
    assert.equal(receiver(b), "streaming");
    console.log(`      step times (ms): ${JSON.stringify(times)}`);
  });
});
