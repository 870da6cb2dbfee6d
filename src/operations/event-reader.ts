import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import { parseStreamEntries, type Ledger, type LedgerEvent } from "./ledger";
import { isTerminal, type OperationStatus } from "./operation-record";

/** What a follower of one operation's events is told. */
export interface EventFollower {
  /** Events after the follower's cursor, in order. */
  onEvents(events: LedgerEvent[]): void;
  /** Once: the operation ended (its terminal status was delivered, or the record says so or is gone). */
  onEnd(): void;
}

export interface SharedEventReaderOptions {
  /** How long one XREAD blocks when nothing is new. @defaultValue 2000 */
  blockMs?: number;
  /** How often followed operations' records are checked for an end the stream did not show. @defaultValue 2000 */
  recordCheckMs?: number;
}

interface Follow {
  id: string;
  cursor: string;
  follower: EventFollower;
  ended: boolean;
}

const BATCH = 500;

/** Stream ids are `<ms>-<seq>`; true when a is after b. */
function after(a: string, b: string): boolean {
  const [am, as] = a.split("-").map(Number) as [number, number];
  const [bm, bs] = b.split("-").map(Number) as [number, number];
  return am > bm || (am === bm && (as ?? 0) > (bs ?? 0));
}

/**
 * Every event stream an API process serves, read through one Redis connection: one blocking XREAD
 * over all followed operations' streams, fanned out to their followers. Opening a stream costs no
 * connection (the old way, one blocking connection per stream, let any read token exhaust Redis'
 * client limit). The connection exists only while something is followed.
 */
export class SharedEventReader {
  private readonly follows = new Map<string, Set<Follow>>();
  private conn?: IORedis;
  private connId?: number;
  private running?: Promise<void>;
  private lastRecordCheck = 0;
  private readonly blockMs: number;
  private readonly recordCheckMs: number;

  constructor(
    private readonly redis: IORedis,
    private readonly ledger: Ledger,
    opts: SharedEventReaderOptions = {},
  ) {
    this.blockMs = opts.blockMs ?? 2_000;
    this.recordCheckMs = opts.recordCheckMs ?? 2_000;
  }

  /** Follows operation `id` from after `cursor` ("0" = from the start). Returns the unfollow function. */
  follow(id: string, cursor: string, follower: EventFollower): () => void {
    const f: Follow = { id, cursor, follower, ended: false };
    let set = this.follows.get(id);
    if (!set) this.follows.set(id, (set = new Set()));
    set.add(f);
    this.wake();
    return () => this.drop(f);
  }

  /** Streams followed now (each reads through the one shared connection). */
  get size(): number {
    let n = 0;
    for (const s of this.follows.values()) n += s.size;
    return n;
  }

  private drop(f: Follow): void {
    const set = this.follows.get(f.id);
    set?.delete(f);
    if (set && set.size === 0) this.follows.delete(f.id);
  }

  private end(f: Follow): void {
    if (f.ended) return;
    f.ended = true;
    this.drop(f);
    f.follower.onEnd();
  }

  private deliver(f: Follow, events: LedgerEvent[]): void {
    const fresh = events.filter((e) => after(e.id, f.cursor));
    if (fresh.length === 0 || f.ended) return;
    f.cursor = fresh[fresh.length - 1]!.id;
    f.follower.onEvents(fresh);
    if (fresh.some((e) => e.type === "status" && isTerminal(e.data.status as OperationStatus))) this.end(f);
  }

  /** Starts the loop, or interrupts its blocking read so it picks up a new stream now. */
  private wake(): void {
    if (!this.running) {
      this.running = this.loop()
        .catch(() => new Promise<void>((r) => setTimeout(r, 500))) // Redis away: followers keep waiting, retry soon
        .finally(() => {
          this.running = undefined;
          if (this.follows.size > 0) this.wake();
        });
      return;
    }
    if (this.connId !== undefined) void this.redis.client("UNBLOCK", this.connId).catch(() => undefined);
  }

  private async loop(): Promise<void> {
    try {
      while (this.follows.size > 0) {
        const conn = await this.connection();
        const ids = [...this.follows.keys()];
        const cursors = ids.map((id) => {
          const fs = [...this.follows.get(id)!];
          return fs.reduce((min, f) => (after(min, f.cursor) ? f.cursor : min), fs[0]!.cursor);
        });
        const res = (await conn
          .xread("COUNT", BATCH, "BLOCK", this.blockMs, "STREAMS", ...ids.map(redisKeys.events), ...cursors)
          .catch(async () => {
            await new Promise((r) => setTimeout(r, 200)); // Redis away: followers keep waiting, nothing is lost
            return null;
          })) as Array<[string, Array<[string, string[]]>]> | null;
        for (const [key, entries] of res ?? []) {
          const id = ids[ids.map(redisKeys.events).indexOf(key)];
          if (!id) continue;
          const events = parseStreamEntries(entries);
          for (const f of [...(this.follows.get(id) ?? [])]) this.deliver(f, events);
        }
        if (Date.now() - this.lastRecordCheck >= this.recordCheckMs) await this.checkRecords();
      }
    } finally {
      this.conn?.disconnect();
      this.conn = undefined;
      this.connId = undefined;
    }
  }

  private async connection(): Promise<IORedis> {
    if (this.conn) return this.conn;
    // Commands may queue while this connection comes up (the shared one refuses to when Redis is down).
    const conn = this.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: 1 });
    conn.on("error", () => undefined); // a dropped connection is retried by the loop
    this.conn = conn;
    this.connId = Number(await conn.client("ID"));
    return conn;
  }

  /**
   * The terminal event may be outside what a follower reads (a Last-Event-ID after it, a trimmed or
   * expired stream): the record decides. A missing record (expired by retention) ends the stream too.
   */
  private async checkRecords(): Promise<void> {
    this.lastRecordCheck = Date.now();
    for (const id of [...this.follows.keys()]) {
      const rec = await this.ledger.get(id).catch(() => "unreadable" as const);
      if (rec === "unreadable" || (rec && !isTerminal(rec.status))) continue;
      for (const f of [...(this.follows.get(id) ?? [])]) {
        const rest = await this.ledger.readEvents(id, f.cursor, 0).catch(() => []);
        this.deliver(f, rest);
        this.end(f);
      }
    }
  }
}
