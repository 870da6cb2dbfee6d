import * as assert from "node:assert/strict";
import { Queue } from "bullmq";
import {
  bullConnection,
  describeRedisEndpoint,
  redisClient,
  type RedisEndpoint,
} from "../../src/infra/redis-endpoint";
import { ReplicaWait } from "../../src/infra/replica-wait";
import { ConfigError, loadServiceConfig, serviceSecrets } from "../../src/service/config";
import { PausableLink } from "../support/pausable-link";
import { startSentinelGroup, type SentinelGroup } from "../support/sentinel-group";

const configError = (env: Record<string, string>): string => {
  try {
    loadServiceConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail("expected a ConfigError");
};

describe("Redis endpoint settings (REDIS_URL or REDIS_SENTINELS)", () => {
  it("refuses REDIS_URL and REDIS_SENTINELS together, naming both", () => {
    const msg = configError({
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_SENTINELS: "127.0.0.1:26379",
      REDIS_SENTINEL_NAME: "mymaster",
    });
    assert.match(msg, /^REDIS_URL, REDIS_SENTINELS: /);
  });

  it("names the variable of every other bad combination or value", () => {
    assert.match(configError({ REDIS_SENTINELS: "127.0.0.1:26379" }), /^REDIS_SENTINEL_NAME: required/);
    assert.match(
      configError({ REDIS_SENTINELS: "127.0.0.1:26379,nohost", REDIS_SENTINEL_NAME: "m" }),
      /^REDIS_SENTINELS: "nohost" is not host:port/,
    );
    assert.match(
      configError({ REDIS_SENTINELS: "127.0.0.1:99999", REDIS_SENTINEL_NAME: "m" }),
      /^REDIS_SENTINELS: /,
    );
    assert.match(
      configError({ REDIS_SENTINEL_NAME: "m" }),
      /^REDIS_SENTINEL_NAME: only used with REDIS_SENTINELS/,
    );
    assert.match(
      configError({ REDIS_URL: "redis://:pw@127.0.0.1:6379", REDIS_PASSWORD: "other" }),
      /^REDIS_URL, REDIS_PASSWORD: /,
    );
    assert.match(configError({ REDIS_PASSWORD: "pw" }), /^REDIS_PASSWORD: only used with/);
    assert.match(configError({ STACKYARD_REDIS_WAIT_REPLICAS: "-1" }), /^STACKYARD_REDIS_WAIT_REPLICAS: /);
  });

  it("parses a Sentinel group, keeps its passwords among the secrets and out of its description", () => {
    const cfg = loadServiceConfig({
      REDIS_SENTINELS: "10.0.0.5:26379, 10.0.0.6:26379,[::1]:26380",
      REDIS_SENTINEL_NAME: "stackyard",
      REDIS_PASSWORD: "data-secret-1",
      REDIS_SENTINEL_PASSWORD: "sentinel-secret-1",
      STACKYARD_REDIS_WAIT_REPLICAS: "1",
    });
    assert.deepEqual(cfg.redis, {
      kind: "sentinel",
      sentinels: [
        { host: "10.0.0.5", port: 26379 },
        { host: "10.0.0.6", port: 26379 },
        { host: "::1", port: 26380 },
      ],
      name: "stackyard",
      password: "data-secret-1",
      sentinelPassword: "sentinel-secret-1",
    });
    assert.deepEqual(cfg.redisWait, { replicas: 1, timeoutMs: 1000 });
    const secrets = serviceSecrets(cfg);
    assert.ok(secrets.includes("data-secret-1") && secrets.includes("sentinel-secret-1"));
    const text = describeRedisEndpoint(cfg.redis!);
    assert.ok(!/secret/.test(text), text);
    assert.equal(loadServiceConfig({}).redisWait.replicas, 0, "WAIT is off by default");
  });

  it("puts REDIS_PASSWORD into a REDIS_URL that has none", () => {
    const cfg = loadServiceConfig({ REDIS_URL: "redis://10.0.0.5:6379/0", REDIS_PASSWORD: "p@ss" });
    assert.equal(cfg.redis?.kind, "url");
    assert.equal(new URL((cfg.redis as { url: string }).url).password, encodeURIComponent("p@ss"));
    assert.ok(!describeRedisEndpoint(cfg.redis!).includes("p%40ss"));
  });
});

describe("a Sentinel group as the service's Redis", function () {
  this.timeout(120_000);
  let g: SentinelGroup;
  let link: PausableLink;
  let endpoint: RedisEndpoint;

  before(async () => {
    // The replica replicates through a link the test can partition.
    g = await startSentinelGroup({
      replicaUpstream: async (primaryPort) => (link = await PausableLink.start(primaryPort)).port,
      failoverTimeoutMs: 120_000,
    });
    await g.settled();
    const cfg = loadServiceConfig(g.env);
    endpoint = cfg.redis!;
  });
  after(async () => {
    await link?.close();
    await g?.stop();
  });

  it("reaches the primary through the sentinels, for ioredis clients and BullMQ queues alike", async () => {
    const c = redisClient(endpoint, { maxRetriesPerRequest: 1 });
    const q = new Queue("endpoint-check", { connection: bullConnection(endpoint) });
    try {
      assert.match(await c.info("replication"), /role:master/);
      await q.add("x", { n: 1 }, { jobId: "j1" });
      const direct = g.node(g.primary.port);
      assert.equal(await direct.exists("bull:endpoint-check:j1"), 1, "the job is on the primary's port");
      direct.disconnect();
    } finally {
      await q.close();
      c.disconnect();
    }
  });

  it("WAIT covers writes of other connections: acknowledged while the replica follows, refused when it is cut off", async () => {
    const writer = redisClient(endpoint, { maxRetriesPerRequest: 1 });
    const wait = new ReplicaWait(redisClient(endpoint, { maxRetriesPerRequest: 1 }), 1, 500);
    try {
      await writer.set("stackyard:test:before", "1");
      assert.deepEqual(await wait.confirm(), { acked: 1, wanted: 1, timeoutMs: 500 });
      // Concurrent callers share rounds, and each still gets a round that started after its call.
      const acks = await Promise.all([1, 2, 3, 4].map(() => wait.confirm()));
      assert.ok(acks.every((a) => a.acked === 1));

      link.partition();
      await writer.set("stackyard:test:after", "1");
      const t0 = Date.now();
      const ack = await wait.confirm();
      assert.equal(ack.acked, 0, "the cut-off replica never acknowledged");
      assert.ok(Date.now() - t0 >= 450, "WAIT waited for its timeout");
    } finally {
      wait.close();
      writer.disconnect();
    }
  });
});
