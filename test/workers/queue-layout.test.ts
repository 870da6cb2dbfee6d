import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import {
  burst,
  connectionsPerWorker,
  spawnWorker,
  waitForFinished,
  workload,
  type WorkerProcess,
} from "../../bench/queue-layout/harness";
import { checkRuns } from "../../bench/queue-layout/run-checks";
import { redisKeys } from "../../src/infra/redis-keys";
import { StackTurns, TURN_QUEUE } from "../../src/workers/stack-turns";
import { readRunLog, type RunStart } from "../../bench/queue-layout/stub-runner";
import type { WorkerConfig } from "../../bench/queue-layout/worker-config";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import { tempDir } from "../support/temp-dir";

const STACKS = 200;
const OPS = 1000;
const turnKeys = { ...redisKeys.turns, turns: redisKeys.turns.index };
const CONFIG: Omit<WorkerConfig, "tag"> = {
  layout: "turns",
  slots: 4,
  stacks: STACKS,
  minMs: 20,
  maxMs: 60,
  lockDurationMs: 2_000,
  stalledIntervalMs: 1_000,
  maxStalledCount: 1,
  sweepGraceMs: 2_000,
};

async function poll(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("queue layout for many stacks (src/workers/stack-turns.ts, the bench's stub runner): one shared queue of per-stack turns", function () {
  this.timeout(240_000);
  let tmp: ReturnType<typeof tempDir>;
  let redis: RedisHandle;
  let admin: IORedis;
  let producerConn: IORedis;
  let producer: StackTurns;
  const workers: WorkerProcess[] = [];

  before(async () => {
    tmp = tempDir("queue-layout");
    redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    admin = new IORedis(redis.url, { maxRetriesPerRequest: null });
    producerConn = new IORedis(redis.url, { maxRetriesPerRequest: null, connectionName: "producer" });
    producer = new StackTurns(producerConn, CONFIG);
    for (const tag of ["w1", "w2", "w3"]) workers.push(await spawnWorker(redis.url, { ...CONFIG, tag }));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await producer?.close();
    producerConn?.disconnect();
    admin?.disconnect();
    await redis?.stop();
    tmp?.remove();
  });

  it("3 workers, 200 stacks, 1,000 operations, one worker killed mid-run: one at a time per stack, FIFO, nothing lost, nothing finished twice", async () => {
    const plan = workload(STACKS, OPS);
    assert.ok(Math.max(...plan.map((p) => p.order)) >= 5, "some stacks get several operations");
    await burst(producer, plan);

    // Bounded connections: each worker process holds the same few, whatever the number of stacks.
    for (const c of await connectionsPerWorker(admin, workers))
      assert.ok(c.total >= 1 && c.total <= 3, `${c.tag}: ${c.total} connections ${JSON.stringify(c.byName)}`);

    // Kill w1 while it is running operations: freeze it, look, and kill it only if it holds some.
    const victim = workers[0]!;
    await poll("w1 has run operations", 60_000, async () => {
      const log = await readRunLog(admin);
      return log.runs.filter((r) => r.worker === "w1").length >= 20;
    });
    let killedAt = 0;
    await poll("w1 frozen while running an operation", 60_000, async () => {
      victim.child.kill("SIGSTOP");
      const log = await readRunLog(admin);
      const ended = new Set(
        [...log.runs, ...log.skips].map((r) => `${r.operationId}|${r.worker}|${r.start}`),
      );
      const running = log.starts.filter(
        (s: RunStart) => s.worker === "w1" && !ended.has(`${s.operationId}|${s.worker}|${s.start}`),
      );
      if (running.length === 0) {
        victim.child.kill("SIGCONT");
        return false;
      }
      victim.child.kill("SIGKILL");
      killedAt = performance.timeOrigin + performance.now();
      return true;
    });
    await new Promise((r) => victim.child.once("exit", r));
    const finishedAtKill = (await readRunLog(admin)).done;
    assert.ok(finishedAtKill < OPS, "the kill came before the end");

    // BullMQ's stalled-job check hands w1's turns to w2 and w3, which run those operations again.
    await waitForFinished(admin, OPS, 150_000);
    await poll(
      "every turn passed on or dropped",
      30_000,
      async () => (await admin.zcard(turnKeys.turns)) === 0,
    );

    const log = await readRunLog(admin);
    const c = checkRuns(plan, log, { w1: killedAt });
    assert.deepEqual(c.lost, [], "nothing lost");
    assert.deepEqual(c.finishedTwice, [], "nothing finished twice");
    assert.equal(c.overlaps, 0, "one run at a time per stack");
    assert.equal(c.fifoViolations, 0, "FIFO per stack");
    assert.equal(c.seqMismatches, 0, "the layout's order is the submission order");
    assert.equal(c.finished, OPS);
    assert.deepEqual(Object.keys(c.cutShort), ["w1"], "only the killed worker left runs unfinished");
    assert.ok(c.cutShort.w1! >= 1 && c.cutShort.w1! <= CONFIG.slots);

    // Every operation started once, except those w1 held when it died: a run cut short there is
    // run again once, to the end, elsewhere; a run w1 finished but had not passed on is found
    // finished by its second run (the ledger's part in the service), which does nothing.
    const key = (r: RunStart) => `${r.operationId}|${r.worker}|${r.start}`;
    const finished = new Set(log.runs.map(key));
    const skipped = new Set(log.skips.map(key));
    const startsOf = new Map<string, RunStart[]>();
    for (const st of log.starts) startsOf.set(st.operationId, [...(startsOf.get(st.operationId) ?? []), st]);
    for (const [op, starts] of startsOf) {
      const done = starts.filter((st) => finished.has(key(st)));
      const extra = starts.filter((st) => !finished.has(key(st)));
      assert.equal(done.length, 1, `${op}: finished ${done.length} times`);
      for (const x of extra) {
        if (skipped.has(key(x)))
          assert.equal(done[0]!.worker, "w1", `${op}: a skip after a finish not on w1`);
        else assert.equal(x.worker, "w1", `${op}: a run cut short on ${x.worker}`);
      }
      assert.ok(extra.length <= 1, `${op} started ${starts.length} times`);
    }
    for (const s of workload(STACKS, OPS).map((p) => p.stack))
      assert.equal(await admin.exists(turnKeys.pending(s), turnKeys.turn(s)), 0, `${s} left keys behind`);
  });

  it("a turn whose job was never added (its producer died between the two steps) is repaired by the sweeper", async () => {
    const stack = "s99999";
    const before = (await readRunLog(admin)).done;
    // What ENQUEUE leaves when the process dies before adding the turn's job: an entry and a turn.
    const entry = JSON.stringify({
      id: "op-orphan",
      operationId: "op-orphan",
      seq: 1,
      enqueuedAt: Date.now(),
    });
    await admin.rpush(turnKeys.pending(stack), entry);
    await admin.set(turnKeys.turn(stack), "turn-orphan-1");
    await admin.zadd(turnKeys.turns, Date.now(), stack);
    await waitForFinished(admin, before + 1, 60_000);
    const run = (await readRunLog(admin)).runs.find((r) => r.operationId === "op-orphan");
    assert.equal(run?.stack, stack);
    await poll(
      "the repaired turn was dropped",
      30_000,
      async () => (await admin.exists(turnKeys.turn(stack))) === 0,
    );
  });

  it("a stale turn (its worker died after passing the turn on, before completing) runs nothing and adds the current turn's missing job", async () => {
    const stack = "s99998";
    const before = (await readRunLog(admin)).done;
    // The token moved on to turn-stale-2, whose job was never added; turn-stale-1 is back in the queue.
    await admin.rpush(
      turnKeys.pending(stack),
      JSON.stringify({ id: "op-after-stale", operationId: "op-after-stale", seq: 1, enqueuedAt: Date.now() }),
    );
    await admin.set(turnKeys.turn(stack), "turn-stale-2");
    // Scored an hour ahead, so the sweeper leaves it alone: only the stale turn can repair it.
    await admin.zadd(turnKeys.turns, Date.now() + 3_600_000, stack);
    const queue = new Queue(TURN_QUEUE, { connection: admin });
    try {
      await queue.add("turn", { stack }, { jobId: "turn-stale-1", removeOnComplete: true });
      await waitForFinished(admin, before + 1, 60_000);
    } finally {
      await queue.close();
    }
    const starts = (await readRunLog(admin)).starts.filter((s) => s.operationId === "op-after-stale");
    assert.equal(starts.length, 1, "run once, by the current turn");
    await poll("the turn was dropped", 30_000, async () => (await admin.exists(turnKeys.turn(stack))) === 0);
  });

  it("a turn BullMQ failed (three attempts hit a Redis error) is retried by the sweeper once the stack can run", async () => {
    const stack = "s99997";
    const before = (await readRunLog(admin)).done;
    // A FIFO of the wrong type: every peek fails with WRONGTYPE, and the turn's attempts run out.
    await admin.set(turnKeys.pending(stack), "not a list");
    await admin.set(turnKeys.turn(stack), "turn-failing-1");
    await admin.zadd(turnKeys.turns, Date.now(), stack);
    const queue = new Queue(TURN_QUEUE, { connection: admin });
    try {
      await queue.add(
        "turn",
        { stack },
        {
          jobId: "turn-failing-1",
          attempts: 3,
          backoff: { type: "fixed", delay: 100 },
          removeOnComplete: true,
        },
      );
      await poll(
        "the turn failed",
        60_000,
        async () => (await queue.getJobState("turn-failing-1")) === "failed",
      );
      await admin.del(turnKeys.pending(stack));
      await admin.rpush(
        turnKeys.pending(stack),
        JSON.stringify({
          id: "op-after-failure",
          operationId: "op-after-failure",
          seq: 1,
          enqueuedAt: Date.now(),
        }),
      );
      await waitForFinished(admin, before + 1, 60_000);
    } finally {
      await queue.close();
    }
    assert.ok((await readRunLog(admin)).runs.some((r) => r.operationId === "op-after-failure"));
    await poll("the turn was dropped", 30_000, async () => (await admin.exists(turnKeys.turn(stack))) === 0);
  });
});
