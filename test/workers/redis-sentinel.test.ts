import * as assert from "node:assert/strict";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { readCalls } from "../../src/sandbox/call-log";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { PausableLink } from "../support/pausable-link";
import { startSentinelGroup, type SentinelGroup } from "../support/sentinel-group";
import { ApiClient } from "./support/api-client";
import { deployBaseline, siteCloud, theatlPoolDroplets } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds; returns how long that took. */
async function until(what: string, check: () => Promise<boolean>, deadlineMs = 120_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > deadlineMs) assert.fail(`${what}: not within ${deadlineMs} ms`);
    await sleep(50);
  }
}

/** The service follows the group's sentinels, not the deployment's own private Redis. */
function followSentinels(
  d: Deployment,
  g: SentinelGroup,
  extra: Record<string, string>,
): Record<string, string> {
  delete d.env.REDIS_URL;
  return { ...g.env, ...extra };
}

/** Terminal status events in an operation's stream: exactly one for an operation that ended once. */
async function terminalEvents(api: ApiClient, id: string): Promise<number> {
  const sse = String((await api.get(`/v1/operations/${id}/events`)).body);
  return (sse.match(/"status":"(succeeded|failed|cancelled|expired)"/g) ?? []).length;
}

/** How long a write acknowledged by the primary takes to be readable on the replica (the window without WAIT). */
async function replicationLagMs(g: SentinelGroup, samples: number): Promise<{ p50: number; max: number }> {
  const primary = g.node(g.primary.port);
  const replica = g.node(g.replica.port);
  const lags: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const v = `${Date.now()}-${i}`;
      await primary.set("stackyard:test:lag", v);
      const t0 = process.hrtime.bigint();
      while ((await replica.get("stackyard:test:lag")) !== v);
      lags.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  } finally {
    primary.disconnect();
    replica.disconnect();
  }
  lags.sort((a, b) => a - b);
  return { p50: lags[Math.floor(lags.length / 2)]!, max: lags[lags.length - 1]! };
}

describe("Redis Sentinel: the primary killed (kill -9) with operations running and queued", function () {
  this.timeout(600_000);
  let g: SentinelGroup;
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;

  before(async () => {
    g = await startSentinelGroup();
    d = await createDeployment("sentinel", ["theatl"]);
    await deployBaseline(d, "theatl");
    await g.settled();
    svc = await spawnService(
      d,
      "all",
      "service",
      followSentinels(d, g, { STACKYARD_REDIS_WAIT_REPLICAS: "1", STACKYARD_REDIS_WAIT_TIMEOUT_MS: "1000" }),
    );
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
  });

  after(async () => {
    await svc?.stop().catch(() => undefined);
    await g?.stop();
    await d?.cleanup();
  });

  it("every operation it accepted ends exactly once, nothing is created twice, and the API answers after the failover", async () => {
    const cloud = siteCloud(d, "theatl");
    const before = (await api.get("/v1/sites/theatl")).body.deployed.configRevision ?? 0;
    // The running operation's first droplet create waits (held) until the primary is dead.
    cloud.setFaults({ latencyMs: 300, hold: { method: "create", type: TYPES.droplet } });
    const since = Date.now();
    const submit = (count: number, headers: Record<string, string> = {}) =>
      api.post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count } }, headers);

    const running = await submit(3);
    assert.equal(running.status, 202, JSON.stringify(running.body));
    await until("the first operation's create is held", async () =>
      readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some(
        (c) => c.phase === "held" && Date.parse(c.ts) >= since,
      ),
    );
    assert.equal((await api.get(`/v1/operations/${running.body.id}`)).body.status, "running");
    // Queued behind it: one job, and a request that rides on it (the coalescer), with an Idempotency-Key.
    const queued = await submit(4);
    const rider = await submit(5, { "Idempotency-Key": "sentinel-rider" });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    assert.equal(rider.status, 202, JSON.stringify(rider.body));
    const accepted: string[] = [running.body.id, queued.body.id, rider.body.id];

    // kill -9 the primary the moment the last 202 is out; the held create then goes on.
    const killedAt = Date.now();
    await g.primary.kill9();
    cloud.releaseHold();
    const promotedMs = await until(
      "the sentinels promote the replica",
      async () => (await g.masterPort()) === g.replica.port,
    );
    const answeringMs = await until(
      "the API reads again",
      async () => (await api.get(`/v1/operations/${running.body.id}`)).status === 200,
    );
    // WAIT 1 with no replica left: refused before anything is written, not half-accepted.
    const history = async () =>
      ((await api.get("/v1/sites/theatl/operations")).body.operations as Array<{ id: string }>).map(
        (o) => o.id,
      );
    const known = await history();
    const refused = await submit(2);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, "NOT_REPLICATED");
    assert.match(refused.body.error.message, /0 of 1 replica/);
    assert.deepEqual(
      (await api.get(`/v1/operations/${queued.body.id}`)).body.params,
      { count: 5 },
      "the refused request did not ride on the queued operation",
    );
    assert.deepEqual(await history(), known, "no record of the refused request");

    // The old primary comes back; Sentinel turns it into the new primary's replica; WAIT acknowledges again.
    await g.primary.restart();
    const rejoinedMs = await until(
      "the old primary replicates from the new one",
      async () => {
        const c = g.node(g.primary.port);
        try {
          return /role:slave[\s\S]*master_link_status:up/.test(await c.info("replication"));
        } finally {
          c.disconnect();
        }
      },
      180_000,
    );
    const after = await submit(4);
    assert.equal(after.status, 202, JSON.stringify(after.body));
    accepted.push(after.body.id);

    const ends: any[] = [];
    for (const id of accepted) ends.push(await api.waitFor(id, 300_000));
    const lost = accepted.filter((id, i) => ends[i]?.id !== id).length;
    const notSucceeded = ends.filter((e) => e.status !== "succeeded");
    assert.deepEqual(
      notSucceeded.map((e) => `${e.id} ${e.status} ${e.reason ?? ""}`),
      [],
      "every accepted operation succeeded",
    );
    assert.equal(ends[2].coalescedInto, queued.body.id, "the rider ended with the job it rode on");
    // The last request may ride on the queued job too, or run on its own if that job had started.
    const runs = ends.filter((e) => !e.coalescedInto).length;
    // Exactly once: one terminal status event each, the revision moved once per engine run, no URN created twice.
    const terminal = await Promise.all(accepted.map((id) => terminalEvents(api, id)));
    assert.deepEqual(terminal, [1, 1, 1, 1]);
    const site = (await api.get("/v1/sites/theatl")).body;
    assert.equal(
      site.deployed.configRevision,
      before + runs,
      "one revision per engine run (riders have none)",
    );
    const creates = readCalls(sandboxDirFor(d.sandboxDir, "theatl")).filter(
      (c) => c.method === "create" && c.phase === "end" && Date.parse(c.ts) >= since,
    );
    const twice = [...new Set(creates.map((c) => c.urn))].filter(
      (urn) => creates.filter((c) => c.urn === urn).length > 1,
    );
    assert.deepEqual(twice, [], "no resource was created twice");
    assert.ok(creates.length >= 2, `the scale-ups created droplets (${creates.length} creates)`);
    assert.equal(theatlPoolDroplets(cloud), 4, "the last wanted count");
    const runTwice = ends.filter((e) => (e.attempts ?? 0) > 1).length;
    console.log(
      `      (failover: promoted ${promotedMs} ms after kill -9, API reading again ${answeringMs} ms after that,` +
        ` old primary rejoined as replica ${rejoinedMs} ms after its restart;` +
        ` accepted ${accepted.length}, lost ${lost}, run twice ${runTwice}, duplicate creates ${twice.length};` +
        ` kill at +${killedAt - since} ms)`,
    );
    assert.equal(runTwice, 0);
  });
});

describe("Redis Sentinel: what WAIT buys when the replica falls behind before the primary dies", function () {
  this.timeout(300_000);
  let g: SentinelGroup;
  let link: PausableLink;
  let d: Deployment;
  let plain: ServiceProcess;
  let waiting: ServiceProcess;

  before(async () => {
    // The replica replicates through a link the test partitions; Sentinel's own view stays direct.
    g = await startSentinelGroup({
      replicaUpstream: async (port) => (link = await PausableLink.start(port)).port,
      failoverTimeoutMs: 120_000,
    });
    d = await createDeployment("sentinel-window", ["theatl"]);
    await g.settled();
    plain = await spawnService(d, "api", "api-plain", followSentinels(d, g, {}));
    waiting = await spawnService(
      d,
      "api",
      "api-wait",
      followSentinels(d, g, { STACKYARD_REDIS_WAIT_REPLICAS: "1", STACKYARD_REDIS_WAIT_TIMEOUT_MS: "500" }),
    );
  });

  after(async () => {
    await plain?.stop().catch(() => undefined);
    await waiting?.stop().catch(() => undefined);
    await link?.close();
    await g?.stop();
    await d?.cleanup();
  });

  it("a 202 without WAIT inside the replication window is lost with the primary; with WAIT=1 every 202 survives and the unconfirmed one was a 503", async () => {
    const noWait = new ApiClient(`http://127.0.0.1:${plain.port}`, d.adminToken);
    const withWait = new ApiClient(`http://127.0.0.1:${waiting.port}`, d.adminToken);
    const submit = (api: ApiClient, count: number) =>
      api.post("/v1/sites/theatl/operations", { operation: "scale-sidekiq", params: { count } });
    const lag = await replicationLagMs(g, 200);

    // Both processes accept while the replica follows.
    const confirmed = await submit(withWait, 3);
    assert.equal(confirmed.status, 202, JSON.stringify(confirmed.body));
    const early = await submit(noWait, 3);
    assert.equal(early.status, 202);
    await until("the replica has the early record", async () => {
      const c = g.node(g.replica.port);
      try {
        return (await c.exists(`stackyard:op:${early.body.id}`)) === 1;
      } finally {
        c.disconnect();
      }
    });

    // The replica stops hearing from the primary (a partition no timeout has noticed yet).
    link.partition();
    const partitionedAt = Date.now();
    const inWindow = await submit(noWait, 4);
    assert.equal(inWindow.status, 202, "without WAIT the primary alone is enough for a 202");
    const unconfirmed = await submit(withWait, 4);
    assert.equal(unconfirmed.status, 503, JSON.stringify(unconfirmed.body));
    assert.equal(unconfirmed.body.error.code, "NOT_REPLICATED");

    // min-replicas-to-write bounds the window on the primary's side: once the replica's last
    // acknowledgement is older than min-replicas-max-lag, the primary refuses writes (503), WAIT or not.
    const direct = g.node(g.primary.port);
    await direct.config("SET", "min-replicas-to-write", "1");
    await direct.config("SET", "min-replicas-max-lag", "1");
    direct.disconnect();
    const alsoInWindow: string[] = [];
    let refusal: Awaited<ReturnType<typeof submit>> | undefined;
    await until(
      "the primary refuses writes once its replica is too far behind",
      async () => {
        refusal = await submit(noWait, 5);
        if (refusal.status === 202) alsoInWindow.push(refusal.body.id);
        return refusal.status === 503;
      },
      30_000,
    );
    const closedAfterMs = Date.now() - partitionedAt;
    assert.equal(refusal?.body.error.code, "SERVICE_UNAVAILABLE", JSON.stringify(refusal?.body));

    await g.primary.kill9();
    const windowMs = Date.now() - partitionedAt;
    link.sever();
    const promotedMs = await until(
      "the sentinels promote the replica",
      async () => (await g.masterPort()) === g.replica.port,
    );
    await until(
      "the API reads again",
      async () => (await withWait.get(`/v1/operations/${confirmed.body.id}`)).status === 200,
    );

    const status = async (id: string) => (await noWait.get(`/v1/operations/${id}`)).status;
    const lost = async (ids: string[]) =>
      (await Promise.all(ids.map(status))).filter((s) => s === 404).length;
    const lostWithWait = await lost([confirmed.body.id]);
    const acceptedWithout = [inWindow.body.id, ...alsoInWindow];
    const lostWithout = await lost(acceptedWithout);
    assert.equal(lostWithWait, 0, "acknowledged with WAIT: survived");
    assert.equal(await status(early.body.id), 200, "acknowledged before the partition: replicated, survived");
    assert.equal(lostWithout, acceptedWithout.length, "acknowledged in the window without WAIT: lost");
    assert.equal(
      unconfirmed.body.error.details.operationId,
      undefined,
      "refused before anything was written",
    );
    console.log(
      `      (replication lag on loopback: p50 ${lag.p50.toFixed(2)} ms, max ${lag.max.toFixed(2)} ms over 200 writes;` +
        ` partition → kill ${windowMs} ms: without WAIT ${lostWithout} of ${acceptedWithout.length} requests acknowledged in it lost` +
        ` (min-replicas-max-lag 1 made the primary refuse writes ${closedAfterMs} ms after the partition),` +
        ` with WAIT=1 ${lostWithWait} of 1 acknowledged lost (the one in the window got 503); promoted ${promotedMs} ms after the kill)`,
    );
  });
});
