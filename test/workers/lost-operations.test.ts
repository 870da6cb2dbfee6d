import * as assert from "node:assert/strict";
import * as path from "node:path";
import IORedis from "ioredis";
import { StackLock } from "../../src/coordination/stack-lock";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import { newOperationId } from "../../src/operations/ids";
import { Ledger } from "../../src/operations/ledger";
import type { OperationRecord } from "../../src/operations/operation-record";
import { silentLogger } from "../../src/infra/observability/logger";
import { LostOperations } from "../../src/workers/lost-operations";
import { StackQueues } from "../../src/workers/stack-queues";
import { StackTurns } from "../../src/workers/stack-turns";
import { tempDir } from "../support/temp-dir";

/**
 * An accepted operation must never stay `running` with nothing left to end it: a worker killed as
 * BullMQ fails its turn (the `failed` event reaches no one), or a run that stopped without ending
 * its operation. Real Redis and real BullMQ turns; the records are put in the states those leave.
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
      turns: queues.turns,
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

  const record = async (status: OperationRecord["status"] = "running"): Promise<OperationRecord> => {
    const rec: OperationRecord = {
      id: newOperationId(),
      site: "theatl",
      kind: "scale-sidekiq",
      params: { count: 3 },
      status,
      requester: { tokenId: "admin" },
      createdAt: new Date().toISOString(),
      attempts: 2,
      recovery: [],
      timings: {},
    };
    await ledger.create(rec);
    return rec;
  };
  const running = () => record("running");

  async function poll(what: string, check: () => Promise<boolean>): Promise<void> {
    for (const t = Date.now() + 30_000; !(await check());) {
      if (Date.now() > t) assert.fail(`${what}: not within 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("ends WORKER_LOST the operation a failed turn was running while no run holds its stack, and passes the turn on", async () => {
    const rec = await running();
    const next = await record("queued");
    await queues.enqueue("theatl", rec.id, rec.kind);
    await queues.enqueue("theatl", next.id, next.kind);
    const wconn = conn.duplicate({ maxRetriesPerRequest: null });
    const worker = new StackTurns(wconn, {
      lockDurationMs: 5_000,
      stalledIntervalMs: 5_000,
      maxStalledCount: 1,
      sweepGraceMs: 500,
    });
    const ran: string[] = [];
    try {
      await worker.startWorker(
        async (op) => {
          // Every attempt of the first operation's turn fails, as a turn BullMQ gives up on.
          if (op.operationId === rec.id) throw new Error("job stalled more than allowable limit");
          ran.push(op.operationId);
        },
        { slots: 1, lostTurn: (s, job, head) => lost.lostTurn(s, job, head) },
      );
      await poll("the next operation ran", async () => ran.includes(next.id));
    } finally {
      await worker.close();
      wconn.disconnect(); // a connection handed to BullMQ stays open after the worker closes
    }
    const after = await ledger.get(rec.id);
    assert.equal(after?.status, "failed");
    assert.match(after!.reason!, /^WORKER_LOST: job stalled more than allowable limit/);
    assert.equal(after!.endedBy, "worker-lost");
    assert.deepEqual(ran, [next.id], "the lost operation was not run by the next turn");
    assert.deepEqual(await queues.entries("theatl"), [], "the stack's FIFO is empty");
  });

  it("resumes an operation whose runs all ended without ending it, with a run of its own", async () => {
    const rec = await running();
    assert.equal(await lost.check("theatl", rec.id, "test"), "resumed");
    const runs = await queues.entries("theatl");
    assert.deepEqual(
      runs.map((e) => [e.id, e.operationId, e.started]),
      [[`${rec.id}-resume-${rec.attempts}`, rec.id, false]],
      "a resume run is queued",
    );
    // While that run waits, the operation is alive: nothing more is done.
    assert.equal(await lost.check("theatl", rec.id, "test"), "alive");
    assert.equal((await ledger.get(rec.id))?.status, "running");
    // The same resume run queued again is a no-op.
    await queues.enqueue("theatl", rec.id, rec.kind, `resume-${rec.attempts}`);
    assert.equal((await queues.entries("theatl")).length, 1);
    assert.ok(await queues.removeQueued("theatl", rec.id));
    assert.deepEqual(await queues.entries("theatl"), []);
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
