import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { FAILOVER_MAX_LAG_SECONDS } from "../../src/operations/limits";
import { nodeLogin, readFleetEndpoints, type FleetEndpoints } from "../../src/sandbox/hosts/fleet-endpoints";
import { reveal } from "../../src/sandbox/property-values";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { stopImmediately } from "../support/postgres-pair";
import { ApiClient } from "./support/api-client";
import { theatlService } from "./support/theatl-service";
import { hostChecks } from "./support/baseline";
import { createDeployment, type Deployment, type ServiceProcess } from "./support/service-harness";

const DNS_RECORD = "digitalocean:index/dnsRecord:DnsRecord";

/**
 * The host rehearsal (STACKYARD_SANDBOX_HOSTS): theATL's database droplets each run a real
 * PostgreSQL, configured and driven by the scripts its program renders (role hook, deploy unit), and
 * its Redis droplet a real redis-server. Every operation goes through HTTP, the queue, the real
 * engine and the sandbox cloud; what is asserted is what the databases themselves say.
 */
describe("host rehearsal: theATL's database operations on real PostgreSQL, through the API", function () {
  this.timeout(1_200_000);
  let d: Deployment;
  let svc: ServiceProcess | undefined;
  let api: ApiClient;
  let approver: ApiClient;
  let cloud: SandboxCloud;
  let hostsDir: string;
  let written = 0;

  const endpoints = (): FleetEndpoints => {
    const e = readFleetEndpoints(hostsDir);
    if (!e) throw new Error("the fleet has written no endpoints yet");
    return e;
  };
  const nodePort = (name: string) => {
    const n = endpoints().db?.nodes[name];
    if (!n) throw new Error(`no rehearsed host ${name}: ${JSON.stringify(endpoints().db)}`);
    return n.port;
  };

  /** One query as the app's user on a port (a node's, or the db-primary name's forwarder). */
  async function query(port: number, sql: string): Promise<Record<string, unknown>[]> {
    const login = nodeLogin(Object.values(endpoints().db!.nodes)[0]!.dir);
    const c = new Client({ host: "127.0.0.1", port, ...login, connectionTimeoutMillis: 3000 });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  }
  const on = (node: string, sql: string) => query(nodePort(node), sql);
  const inRecovery = async (node: string) =>
    (await on(node, "SELECT pg_is_in_recovery() AS r"))[0]!.r as boolean;
  const receiver = async (node: string) =>
    String((await on(node, "SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none') AS s"))[0]!.s);
  const streamingTo = async (primary: string) =>
    (await on(primary, "SELECT count(*)::int AS n FROM pg_stat_replication WHERE state = 'streaming'"))[0]!
      .n as number;
  const count = async (node: string) =>
    (await on(node, "SELECT count(*)::int AS n FROM toots"))[0]!.n as number;
  const reachable = (node: string) =>
    on(node, "SELECT 1").then(
      () => true,
      () => false,
    );
  async function write(node: string, phase: string, n: number): Promise<void> {
    await on(node, `INSERT INTO toots (body) SELECT '${phase} ' || g FROM generate_series(1, ${n}) g`);
    written += n;
  }
  async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
    const deadline = Date.now() + ms;
    let last = "";
    for (;;) {
      if (
        await check().catch((err: Error) => {
          last = err.message;
          return false;
        })
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}${last ? ` (last: ${last})` : ""}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const droplet = (name: string) => cloud.byName(TYPES.droplet, name, "theatl")!;
  const replicaNameIps = () =>
    cloud
      .list(DNS_RECORD, "theatl")
      .filter((r) => reveal(r.inputs.name) === "db-replica.int")
      .map((r) => String(reveal(r.outputs.value ?? r.inputs.value)))
      .sort();
  const privateIp = (name: string) => String(reveal(droplet(name).outputs.ipv4AddressPrivate));

  before(async () => {
    d = await createDeployment("rehearsal", ["theatl"], {
      STACKYARD_SANDBOX_HOSTS: "true",
      STACKYARD_SANDBOX_HOST_PERIOD_MS: "500",
      STACKYARD_VERIFY_TIMEOUT_MS: "45000",
      STACKYARD_VERIFY_INTERVAL_MS: "250",
    });
    // The postgres user must be able to pass through the private test folder to its data directories.
    fs.chmodSync(d.dir, 0o711);
    hostsDir = path.join(d.stateDir, "sandbox-hosts", "theatl");
    ({ svc, api, approver, cloud } = await theatlService(d));
  });

  after(async () => {
    await svc?.stop();
    // Whatever a failed run left running: no server outlives the test.
    const e = hostsDir ? readFleetEndpoints(hostsDir) : undefined;
    for (const n of Object.values(e?.db?.nodes ?? {})) stopImmediately(path.join(n.dir, "data"));
    await d?.cleanup();
  });

  it("from a fresh sandbox: pg-b streams from pg-a, rows written on pg-a are on pg-b, Redis admits the apps' password only", async () => {
    await until("pg-a up as a primary", async () => !(await inRecovery("pg-a")));
    await until("pg-b streaming from pg-a", async () => (await receiver("pg-b")) === "streaming");
    assert.equal(await inRecovery("pg-b"), true);
    assert.equal(await streamingTo("pg-a"), 1, "pg_stat_replication on pg-a: one streaming standby");
    await on("pg-a", "CREATE TABLE toots (id bigserial PRIMARY KEY, body text)");
    await write("pg-a", "fresh", 100);
    await until("pg-a's rows on pg-b", async () => (await count("pg-b")) === written);
    const redis = endpoints().redis;
    assert.ok(redis, "the Redis droplet runs a real redis-server");
    assert.equal(redis.clientCheck?.withPassword, "PONG", "an app client with the rendered password");
    assert.match(redis.clientCheck!.withoutPassword, /NOAUTH/, "a client without it is refused");
  });

  it("add-read-replica pg-c: a new droplet that streams with lag under the guard's limit; remove-read-replica: it stops and leaves the replica name", async () => {
    const add = await api.runApproved("theatl", "add-read-replica", { name: "pg-c" }, approver);
    assert.equal(add.status, "succeeded", add.reason);
    assert.equal(add.hosts.converged, true);
    const c = add.hosts.observations.find((o: { node: string }) => o.node === "pg-c");
    const lag = Number(/lag ([\d.]+) s/.exec(c.observed)?.[1]);
    assert.ok(lag <= FAILOVER_MAX_LAG_SECONDS, `pg-c lag ${lag} s`);
    assert.equal(await receiver("pg-c"), "streaming");
    assert.equal(await inRecovery("pg-c"), true);
    assert.equal(await streamingTo("pg-a"), 2);
    await write("pg-a", "with-pg-c", 50);
    await until("the rows on pg-c", async () => (await count("pg-c")) === written);
    assert.ok(replicaNameIps().includes(privateIp("pg-c")), "pg-c is in db-replica.int");

    const remove = await api.runApproved("theatl", "remove-read-replica", { name: "pg-c" }, approver);
    assert.equal(remove.status, "succeeded", remove.reason);
    // The fleet applies a fenced node's stop on its next round after the update; the verify phase
    // judges roles only (a still-serving standby is not a primary), so this is waited for.
    await until("pg-c's server stopped (fenced)", async () => !(await reachable("pg-c")));
    await until("pg-a to stream to pg-b only", async () => (await streamingTo("pg-a")) === 1);
    assert.deepEqual(replicaNameIps(), [privateIp("pg-b")], "db-replica.int names pg-b only");
  });

  it("failover to pg-b (approved by a second principal): pg-b a writable primary, pg-a no writes, every row kept, db-primary.int writes land on pg-b", async () => {
    const before = written;
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "failover",
      params: { target: "pg-b" },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal((await api.waitFor(r.body.id, 300_000, ["awaiting-approval"])).status, "awaiting-approval");
    const selfApprove = await api.post(`/v1/operations/${r.body.id}/approve`);
    assert.equal(selfApprove.status, 403, "the requester cannot approve");
    const approvedAt = Date.now();
    assert.equal((await approver.post(`/v1/operations/${r.body.id}/approve`)).status, 202);
    const op = await api.waitFor(r.body.id);
    const verifiedMs = Date.now() - approvedAt;
    assert.equal(op.status, "succeeded", op.reason);
    assert.deepEqual(hostChecks(op), [
      ["pg-b", "primary", true],
      ["pg-a", "fenced", true],
      ["pg-c", "fenced", true],
    ]);
    assert.equal(await inRecovery("pg-b"), false);
    const found = await count("pg-b");
    assert.equal(found, before, "every row written before the failover is on pg-b");
    // As above: the fleet stops the old primary and moves the private DNS name on its own rounds.
    await until("pg-a stopped: it accepts no writes", async () => !(await reachable("pg-a")));
    await until("db-primary.int to name pg-b", async () => endpoints().primaryName?.target === "pg-b");
    const name = endpoints().primaryName!;
    await query(name.port, "INSERT INTO toots (body) VALUES ('through db-primary.int')");
    written++;
    assert.equal(
      (await on("pg-b", "SELECT count(*)::int AS n FROM toots WHERE body = 'through db-primary.int'"))[0]!.n,
      1,
    );
    console.log(
      `      failover: approval → verified ${verifiedMs} ms (verify phase ${op.hosts.waitedMs} ms, ${op.hosts.rounds} observations); rows written before ${before}, found on pg-b ${found}`,
    );
  });

  it("a failover back whose promotion fails ends HOST_NOT_CONVERGED with what was seen; once the host can promote, it completes and the old primary rejoins", async () => {
    // pg-a, the old primary, rejoins as a standby of pg-b (its data kept aside, copied afresh).
    const rejoin = await api.runApproved("theatl", "add-read-replica", { name: "pg-a" }, approver);
    assert.equal(rejoin.status, "succeeded", rejoin.reason);
    assert.equal(await receiver("pg-a"), "streaming");
    assert.ok(
      fs.readdirSync(path.join(hostsDir, "pg-a")).some((f) => f.startsWith("data.pre-rejoin-")),
      "pg-a's old data is kept aside",
    );
    await until("every row on pg-a", async () => (await count("pg-a")) === written);

    cloud.setRoleAgent(TYPES.droplet, droplet("pg-a").id, "promotion-fails");
    const failed = await api.runApproved("theatl", "failover", { target: "pg-a" }, approver);
    assert.equal(failed.status, "failed", failed.reason);
    assert.equal(failed.failure.code, "HOST_NOT_CONVERGED");
    assert.match(failed.reason, /pg-a: expected primary, observed standby/);
    assert.equal(failed.hosts.converged, false);
    assert.equal(await inRecovery("pg-a"), true, "pg-a's PostgreSQL was not promoted");
    assert.match(endpoints().db!.nodes["pg-a"]!.lastDeploy?.error ?? "", /promote failed/);

    cloud.setRoleAgent(TYPES.droplet, droplet("pg-a").id, undefined);
    const back = await api.runApproved("theatl", "failover", { target: "pg-a" }, approver);
    assert.equal(back.status, "succeeded", back.reason);
    assert.equal(back.hosts?.converged ?? true, true);
    await until("pg-a promoted", async () => !(await inRecovery("pg-a")));
    assert.equal(await count("pg-a"), written, "every row is on pg-a");
    const rejoinB = await api.runApproved("theatl", "add-read-replica", { name: "pg-b" }, approver);
    assert.equal(rejoinB.status, "succeeded", rejoinB.reason);
    assert.equal(await receiver("pg-b"), "streaming");
    await write("pg-a", "after-failback", 10);
    await until("pg-a's rows on pg-b", async () => (await count("pg-b")) === written);
  });
});
