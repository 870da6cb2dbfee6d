import * as assert from "node:assert/strict";
import * as path from "node:path";
import { QueueEvents } from "bullmq";
import IORedis from "ioredis";
import { StackLock } from "../../src/coordination/stack-lock";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import { Ledger } from "../../src/operations/ledger";
import { newOperationId } from "../../src/operations/ids";
import type { OperationRecord } from "../../src/operations/operation-record";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { silentLogger } from "../../src/infra/observability/logger";
import { withoutAbsolutePaths } from "../../src/workers/job-failure";
import type { RunnerDeps } from "../../src/workers/operation-runner";
import { StackQueues } from "../../src/workers/stack-queues";
import { TURN_QUEUE } from "../../src/workers/stack-turns";
import { WorkerPool, type StallSettings } from "../../src/workers/worker-pool";

const STALL_SETTINGS: StallSettings = {
  lockDurationMs: 30_000,
  stalledIntervalMs: 15_000,
  maxStalledCount: 3,
};
import { tempDir } from "../support/temp-dir";

const ABSOLUTE = /(^|[\s"'(=:])\/[\w.@+~-]+\//;

/** What BullMQ keeps of a failed job is what Bull Board shows: no stack trace, no path of the host. */
describe("a failed job's reason in the queue", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let redis: RedisHandle;
  let conn: IORedis;
  before(async () => {
    tmp = tempDir("job-failure");
    redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    conn = new IORedis(redis.url, { maxRetriesPerRequest: null });
  });
  after(async () => {
    conn?.disconnect();
    await redis?.stop();
    tmp?.remove();
  });

  it("carries no absolute path and no stack trace when the operation fails with one in its reason", async () => {
    const ledger = new Ledger(conn);
    const programPath = path.join(tmp.dir, "srv", "stackyard", "dist", "src", "programs", "theatl.js");
    const deps = {
      ledger,
      stackFiles: new StackFileStore(tmp.dir),
      stackLock: new StackLock(conn, 10_000),
      engine: () => ({ stateDir: tmp.dir, passphrase: "x", pulumiHome: tmp.dir, env: {} }),
      projectName: "stackyard",
      program: () => {
        throw new Error(`loading ${programPath} failed: Cannot find module '${programPath}'`);
      },
      facts: {},
      git: { enabled: false, author: { name: "t", email: "t@localhost" } },
      logger: silentLogger,
      secrets: [],
      stackLockWaitMs: 5_000,
      liveEngineLockWaitMs: 5_000,
      foreignEngineLockStaleMs: 60_000,
      guards: {},
      policyPacks: [],
      approvalTtlMs: 60_000,
    } as unknown as RunnerDeps;
    const id = newOperationId();
    const rec: OperationRecord = {
      id,
      site: "theatl",
      kind: "scale-sidekiq",
      params: { count: 3 },
      status: "queued",
      requester: { tokenId: "admin" },
      createdAt: new Date().toISOString(),
      attempts: 0,
      recovery: [],
      timings: {},
    };
    await ledger.create(rec);
    const queues = new StackQueues(conn, conn, ["theatl"]);
    const events = new QueueEvents(TURN_QUEUE, { connection: { url: redis.url } });
    await events.waitUntilReady();
    const pool = new WorkerPool(deps, { url: redis.url }, conn, ["theatl"], STALL_SETTINGS, silentLogger);
    try {
      const failed = new Promise<{ jobId: string; failedReason: string }>((resolve) =>
        events.on("failed", (e) => resolve(e)),
      );
      await pool.start();
      await queues.enqueue("theatl", id, "scale-sidekiq");
      // The operation's turn fails (after passing the stack's turn on), so Bull Board shows it failed.
      const { jobId, failedReason: reason } = await failed;
      const job = await queues.turnQueue.getJob(jobId);
      assert.equal(await job!.getState(), "failed");
      assert.match(job!.failedReason, /theatl\.js/, "the reason still names what failed");
      assert.doesNotMatch(job!.failedReason, ABSOLUTE, job!.failedReason);
      assert.doesNotMatch(reason, ABSOLUTE);
      assert.ok(!job!.failedReason.includes(tmp.dir));
      assert.deepEqual(job!.stacktrace, [], "no stack trace is kept on the job");
      assert.equal((await ledger.get(id))?.status, "failed");
      assert.deepEqual(await queues.entries("theatl"), [], "the stack's FIFO is empty: its turn passed on");
    } finally {
      await pool.close(1_000);
      await events.close();
      await queues.close();
    }
  });

  it("cuts paths to their last segment and leaves URLs and ratios alone", () => {
    assert.equal(
      withoutAbsolutePaths("open /srv/a/stacks/Pulumi.theatl.yaml: denied"),
      "open Pulumi.theatl.yaml: denied",
    );
    assert.equal(withoutAbsolutePaths('at f ("/x/y/z.js:1:2")'), 'at f ("z.js:1:2")');
    assert.equal(
      withoutAbsolutePaths("see https://example.org/a/b and 3/4 done"),
      "see https://example.org/a/b and 3/4 done",
    );
  });
});
