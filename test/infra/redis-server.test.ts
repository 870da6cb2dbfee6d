import * as assert from "node:assert/strict";
import { once } from "node:events";
import * as path from "node:path";
import { Queue, QueueEvents, Worker } from "bullmq";
import IORedis from "ioredis";
import { startPrivateRedis } from "../../src/infra/redis-server";
import { tempDir } from "../support/temp-dir";

describe("private Redis server", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;

  before(() => (tmp = tempDir("redis")));
  after(() => tmp.remove());

  it("starts on loopback with AOF and noeviction, round-trips a BullMQ job, and stops", async () => {
    const dataDir = path.join(tmp.dir, "redis");
    const redis = await startPrivateRedis(dataDir);
    try {
      assert.match(redis.url, /^redis:\/\/:[0-9a-f]{64}@127\.0\.0\.1:\d+$/);
      const admin = new IORedis(redis.url, { maxRetriesPerRequest: null });
      assert.deepEqual(await admin.config("GET", "appendonly"), ["appendonly", "yes"]);
      assert.deepEqual(await admin.config("GET", "maxmemory-policy"), ["maxmemory-policy", "noeviction"]);
      admin.disconnect();

      const connection = { url: redis.url };
      const queue = new Queue("roundtrip", { connection });
      const events = new QueueEvents("roundtrip", { connection });
      const worker = new Worker(
        "roundtrip",
        async (job) => ({ doubled: (job.data as { n: number }).n * 2, by: "worker" }),
        { connection },
      );
      await events.waitUntilReady();
      const job = await queue.add("double", { n: 21 }, { jobId: "op-roundtrip-1" });
      const result = await job.waitUntilFinished(events, 20_000);
      assert.deepEqual(result, { doubled: 42, by: "worker" });
      await worker.close();
      await events.close();
      await queue.close();
    } finally {
      await redis.stop();
    }
    assert.notEqual(redis.process?.exitCode ?? redis.process?.signalCode, null, "the server process ended");

    // The same data folder brings the finished job back: AOF kept it across the restart.
    const again = await startPrivateRedis(dataDir);
    try {
      const queue = new Queue("roundtrip", { connection: { url: again.url } });
      const job = await queue.getJob("op-roundtrip-1");
      assert.equal(await job?.getState(), "completed");
      assert.deepEqual(job?.returnvalue, { doubled: 42, by: "worker" });
      await queue.close();
    } finally {
      await again.stop();
    }
  });
});

describe("private Redis left running by a dead process", function () {
  this.timeout(60_000);

  it("is stopped before a new server takes its data folder", async () => {
    const tmp = tempDir("redis-leftover");
    try {
      const dataDir = path.join(tmp.dir, "redis");
      const first = await startPrivateRedis(dataDir);
      const leftoverPid = first.process!.pid!;
      // Forget the handle, as a process killed with -9 would: the server keeps running.
      const second = await startPrivateRedis(dataDir);
      try {
        if (first.process!.exitCode === null && first.process!.signalCode === null)
          await once(first.process!, "exit");
        assert.throws(() => process.kill(leftoverPid, 0), /ESRCH/, "the leftover server is gone");
        const client = new IORedis(second.url, { maxRetriesPerRequest: null });
        assert.equal(await client.ping(), "PONG");
        client.disconnect();
      } finally {
        await second.stop();
      }
    } finally {
      tmp.remove();
    }
  });
});
