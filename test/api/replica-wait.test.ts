import * as assert from "node:assert/strict";
import type { ReplicationCheck } from "../../src/operations/operation-service";
import { startApiHarness, type ApiHarness } from "./api-harness";

/**
 * A replication check whose answers the test sets, one per call (WAIT before anything is written,
 * then WAIT after the record); it also notes whether the operation's job existed at each call.
 */
class ScriptedReplicas implements ReplicationCheck {
  answers: number[] = [];
  calls = 0;
  jobsSeenAtConfirm: boolean[] = [];
  constructor(private readonly jobExists: () => Promise<boolean>) {}
  async confirm() {
    this.calls++;
    this.jobsSeenAtConfirm.push(await this.jobExists());
    return { acked: this.answers.shift() ?? 1, wanted: 1, timeoutMs: 1000 };
  }
}

describe("STACKYARD_REDIS_WAIT_REPLICAS: an operation is accepted only once the replicas have its record", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  let replicas: ScriptedReplicas;
  const waiting = async () => (await h.queues.entries("theatl")).length;

  before(async () => {
    replicas = new ScriptedReplicas(async () => (await waiting()) > 0);
    h = await startApiHarness({ replication: { confirm: () => replicas.confirm() } });
  });
  after(async () => h?.close());
  beforeEach(async () => {
    for (const e of await h.queues.entries("theatl")) await h.queues.removeQueued("theatl", e.operationId);
    replicas.answers = [];
    replicas.calls = 0;
    replicas.jobsSeenAtConfirm = [];
  });

  const submit = (count: number, key?: string) =>
    h
      .client("admin")
      .post(
        "/v1/sites/theatl/operations",
        { operation: "scale-sidekiq", params: { count } },
        key ? { "Idempotency-Key": key } : {},
      );

  it("answers 202 after both WAITs, and queues the job only after the record was confirmed", async () => {
    const r = await submit(3);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(replicas.calls, 2);
    assert.deepEqual(replicas.jobsSeenAtConfirm, [false, false], "no job existed at either WAIT");
    assert.equal(await waiting(), 1);
  });

  it("replicas not following before the write: 503 NOT_REPLICATED, no record, no job", async () => {
    const before = (await h.ledger.listForSite("theatl", 1000)).length;
    replicas.answers = [0];
    const r = await submit(3);
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, "NOT_REPLICATED");
    assert.match(r.body.error.message, /0 of 1 replica\(s\) within 1000 ms/);
    assert.equal(r.body.error.details.operationId, undefined);
    assert.equal((await h.ledger.listForSite("theatl", 1000)).length, before, "nothing recorded");
    assert.equal(await waiting(), 0, "nothing queued");
  });

  it("the record not confirmed after the write: 503, the record ends failed, nothing queued, the key is free again", async () => {
    replicas.answers = [1, 0];
    const r = await submit(3, "wait-retry");
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, "NOT_REPLICATED");
    const id = r.body.error.details.operationId as string;
    const rec = await h.ledger.get(id);
    assert.equal(rec?.status, "failed");
    assert.match(String(rec?.reason), /replicas did not confirm/);
    assert.equal(await waiting(), 0, "nothing queued");
    // A retry with the same Idempotency-Key is a new request, accepted once the replicas follow.
    const again = await submit(3, "wait-retry");
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.notEqual(again.body.id, id);
    assert.equal(await waiting(), 1);
  });
});
