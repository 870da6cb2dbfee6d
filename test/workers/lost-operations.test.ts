import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Worker } from "bullmq";
import IORedis from "ioredis";
import { StackLock } from "../../src/coordination/stack-lock";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import { newOperationId } from "../../src/operations/ids";
import { Ledger } from "../../src/operations/ledger";
import type { OperationRecord } from "../../src/operations/operation-record";
import { silentLogger } from "../../src/infra/observability/logger";
import { LostOperations } from "../../src/workers/lost-operations";
import { stackQueueName, StackQueues } from "../../src/workers/stack-queues";
import { tempDir } from "../support/temp-dir";

/**
 * An accepted operation must never stay `running` with nothing left to end it: a worker killed as
 * BullMQ fails its job (the `failed` event reaches no one), or a run that stopped without ending
 * its operation. Real Redis and real BullMQ jobs; the records are put in the states those leave.
 */
describe("operations nothing would end any more", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let redis: RedisHandle;
  let conn: IORedis;
  let ledger: Ledger;
  let queues: StackQueues;
  let lost: LostOperations;
  const resumed: string[] = [];

  before(async () => {
    tmp = tempDir("lost-ops");
    redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    conn = new IORedis(redis.url, { maxRetriesPerRequest: null });
    ledger = new Ledger(conn);
    queues = new StackQueues(conn, conn, ["theatl"]);
    lost = new LostOperations({
      ledger,
      stackLock: new StackLock(conn, 10_000),
      queue: (s) => queues.queue(s),
      resume: async (s, rec) => {
        resumed.push(rec.id);
        await queues.enqueue(s, rec.id, rec.kind, `resume-${rec.attempts}`);
      },
      logger: silentLogger,
    });
  });
  after(async () => {
    await queues?.close();
    conn?.disconnect();
    await redis?.stop();
    tmp?.remove();
  });

  const running = async (): Promise<OperationRecord> => {
    const rec: OperationRecord = {
      id: newOperationId(),
      site: "theatl",
      kind: "scale-sidekiq",
      params: { count: 3 },
      status: "running",
      requester: { tokenId: "admin" },
      createdAt: new Date().toISOString(),
      attempts: 2,
      recovery: [],
      timings: {},
    };
    await ledger.create(rec);
    return rec;
  };

  /** Runs the stack queue's waiting jobs with `processor` until `until` holds. */
  async function drain(processor: () => Promise<unknown>, until: () => Promise<boolean>): Promise<void> {
    const wconn = conn.duplicate({ maxRetriesPerRequest: null });
    const w = new Worker(stackQueueName("theatl"), processor, { connection: wconn });
    try {
      for (const t = Date.now() + 20_000; !(await until());) {
        if (Date.now() > t) assert.fail("the jobs never ended");
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await w.close();
      wconn.disconnect(); // a connection handed to BullMQ stays open after the worker closes
    }
  }

  it("ends WORKER_LOST an operation whose job failed while no run holds its stack", async () => {
    const rec = await running();
    await queues.enqueue("theatl", rec.id, rec.kind);
    await drain(
      async () => {
        throw new Error("job stalled more than allowable limit");
      },
      async () => (await queues.queue("theatl").getJob(rec.id))?.isFailed() ?? false,
    );
    assert.equal(await lost.check("theatl", rec.id, "test"), "ended");
    const after = await ledger.get(rec.id);
    assert.equal(after?.status, "failed");
    assert.match(after!.reason!, /^WORKER_LOST: job stalled more than allowable limit/);
    assert.equal(after!.endedBy, "worker-lost");
  });

  it("resumes an operation whose jobs all completed without ending it, with a job of its own", async () => {
    const rec = await running();
    await queues.enqueue("theatl", rec.id, rec.kind);
    await drain(
      async () => ({ status: "superseded" }),
      async () => (await queues.queue("theatl").getJob(rec.id))?.isCompleted() ?? false,
    );
    assert.equal(await lost.check("theatl", rec.id, "test"), "resumed");
    const job = await queues.queue("theatl").getJob(`${rec.id}-resume-${rec.attempts}`);
    assert.ok(job, "a resume job is queued");
    assert.equal(await job.getState(), "waiting");
    assert.deepEqual(job.data, { operationId: rec.id });
    // While that job waits, the operation is alive: nothing more is done.
    assert.equal(await lost.check("theatl", rec.id, "test"), "alive");
    assert.equal((await ledger.get(rec.id))?.status, "running");
    await job.remove();
  });

  it("leaves alone an operation a live run holds, a request riding on another, and a finished one", async () => {
    const held = await running();
    const lock = await new StackLock(conn, 10_000).tryAcquire("theatl", held.id);
    try {
      assert.equal(await lost.check("theatl", held.id, "test"), "alive");
    } finally {
      await lock?.release();
    }
    const rider = await running();
    await ledger.patch(rider.id, { coalescedInto: held.id } as never);
    assert.equal(await lost.check("theatl", rider.id, "test"), "alive");
    const done = await running();
    await ledger.transition(done.id, ["running"], "succeeded");
    assert.equal(await lost.check("theatl", done.id, "test"), "alive");
    assert.ok(!resumed.includes(held.id) && !resumed.includes(rider.id) && !resumed.includes(done.id));
  });
});
