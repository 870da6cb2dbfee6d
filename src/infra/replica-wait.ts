import type IORedis from "ioredis";
import { redisKeys } from "./redis-keys";

/** What one WAIT round found: how many replicas acknowledged, of how many wanted, within what time. */
export interface ReplicaAck {
  acked: number;
  wanted: number;
  timeoutMs: number;
}

/**
 * Redis `WAIT` for writes made on any of the process's connections. WAIT only covers the writes of
 * the connection that sends it, so each round writes a probe key on its own connection first: the
 * replication stream is one ordered log, and a replica that acknowledged the probe holds every
 * write that completed before it. Concurrent callers share a round (a group commit): a caller that
 * arrives while a round is in flight waits for the next one, whose probe comes after its writes.
 * The connection is its own (WAIT blocks it); nothing else may use it.
 */
export class ReplicaWait {
  private current?: Promise<ReplicaAck>;
  private next?: Promise<ReplicaAck>;

  constructor(
    private readonly redis: IORedis,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once a round that started after the call returned; rejects when Redis refused the probe. */
  confirm(): Promise<ReplicaAck> {
    if (!this.current) {
      this.current = this.round().finally(() => (this.current = undefined));
      return this.current;
    }
    // The round in flight may have sent its probe before this caller's writes completed.
    this.next ??= this.current
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.confirm();
      });
    return this.next;
  }

  private async round(): Promise<ReplicaAck> {
    const results = await this.redis
      .pipeline()
      .set(redisKeys.replicaWaitProbe, String(Date.now()), "PX", 60_000)
      .wait(this.replicas, this.timeoutMs)
      .exec();
    for (const [err] of results ?? []) if (err) throw err;
    const acked = Number(results?.[1]?.[1] ?? 0);
    return { acked, wanted: this.replicas, timeoutMs: this.timeoutMs };
  }

  close(): void {
    this.redis.disconnect();
  }
}
