import type IORedis from "ioredis";
import { hasOperationObservers, notifyFinished, notifyRefused } from "./finish-observers";
import { isTerminal, type OperationRecord, type OperationStatus } from "./operation-record";
import type { OperationRetention } from "./retention";

/** A line of an operation's live log, as SSE clients see it. */
export interface LedgerEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const PREFIX = "stackyard";
const opKey = (id: string) => `${PREFIX}:op:${id}`;
const eventsKey = (id: string) => `${PREFIX}:op:${id}:events`;
const siteOpsKey = (site: string) => `${PREFIX}:site:${site}:ops`;
const siteKey = (site: string) => `${PREFIX}:site:${site}`;
/** Operations that rode on this one (coalesced requests, see src/schedules/scale-coalescer.ts). */
const ridersKey = (id: string) => `${PREFIX}:op:${id}:riders`;
/** Engine runs per site, scored by start time (the rate guard counts them). */
const siteRunsKey = (site: string) => `${PREFIX}:site:${site}:runs`;
/** Operations waiting for approval, scored by their expiry. */
const AWAITING_KEY = `${PREFIX}:awaiting-approval`;
/** For stores that write operation records atomically with their own keys (the scale coalescer). */
export const ledgerKeys = { op: opKey, events: eventsKey, siteOps: siteOpsKey, riders: ridersKey };

// Moves an operation between statuses only from an allowed one, atomically, and writes the other
// fields in the same step: a cancel and a worker racing on one operation cannot both win.
const TRANSITION = `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return -1 end
local allowed = cjson.decode(ARGV[1])
local ok = false
for _, s in ipairs(allowed) do if cjson.encode(s) == cur then ok = true end end
if not ok then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

/** What the service remembers of a site between operations. */
export interface SiteState {
  configRevision?: number;
  lastOperationId?: string;
  outputs?: Record<string, unknown>;
  updatedAt?: string;
  commit?: string;
  /** The stack file before an operation rewrote it, kept until that operation ends (restore on failure). */
  pendingWrite?: { operationId: string; previousText: string; revision: number };
}

/**
 * The operation ledger: Redis hashes (one per operation, one field per top-level key, JSON values),
 * a stream of events per operation, and a time index per site. BullMQ is the queue; this is the record.
 */
export class Ledger {
  /** @param retention expiry for finished operations (none: kept forever). */
  constructor(
    private readonly redis: IORedis,
    private readonly retention?: Pick<OperationRetention, "finished">,
  ) {}

  async create(rec: OperationRecord): Promise<void> {
    const score = Date.parse(rec.createdAt);
    await this.redis
      .multi()
      .hset(opKey(rec.id), encode(rec))
      .zadd(siteOpsKey(rec.site), score, rec.id)
      .xadd(eventsKey(rec.id), "MAXLEN", "~", "5000", "*", "type", "status", "data", JSON.stringify({ status: rec.status }))
      .exec()
      .then(throwOnMultiError);
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const h = await this.redis.hgetall(opKey(id));
    if (!h.id) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h)) out[k] = JSON.parse(v);
    return out as unknown as OperationRecord;
  }

  async patch(id: string, fields: Partial<OperationRecord>): Promise<void> {
    await this.redis.hset(opKey(id), encode(fields));
  }

  /** Sets `to` (and `fields`) only if the current status is one of `from`; true when it did. */
  async transition(id: string, from: OperationStatus[], to: OperationStatus, fields: Partial<OperationRecord> = {}): Promise<boolean> {
    const pairs = Object.entries(encode({ ...fields, status: to })).flat();
    const r = (await this.redis.eval(TRANSITION, 1, opKey(id), JSON.stringify(from), ...pairs)) as number;
    if (r === 1) await this.event(id, "status", { status: to, ...(fields.reason ? { reason: fields.reason } : {}) });
    if (r === 1 && isTerminal(to)) await this.finished(id, to);
    return r === 1;
  }

  /**
   * The one place every operation ends: requests that rode on it end with its outcome, and
   * observers (metrics) hear of it. Runs after the status is written; never fails the transition.
   */
  private async finished(id: string, to: OperationStatus): Promise<void> {
    await this.retention?.finished(id).catch(() => undefined);
    try {
      const riders = await this.redis.smembers(ridersKey(id));
      const rec = riders.length > 0 || hasOperationObservers() ? await this.get(id) : undefined;
      for (const rider of riders) {
        const reason = `carried by ${id}${rec?.reason ? `: ${rec.reason}` : ""}`;
        await this.transition(rider, ["queued"], to, { reason, finishedAt: rec?.finishedAt ?? new Date().toISOString(), revision: rec?.revision });
      }
      if (!rec || !hasOperationObservers()) return;
      const r = rec as OperationRecord & { coalescedInto?: string };
      notifyFinished({ id, site: r.site, kind: r.kind, status: to, reason: r.reason, createdAt: r.createdAt, startedAt: r.startedAt, finishedAt: r.finishedAt, checks: r.checks, coalescedInto: r.coalescedInto });
      // A refusal at run time: the failed check names the rule (blast radius, live checks); a plan refusal has none.
      if (to === "failed" && !r.coalescedInto && /^(GUARD_REFUSED|BLAST_RADIUS_EXCEEDED|POLICY_VIOLATION):/.test(r.reason ?? "")) {
        notifyRefused({ site: r.site, kind: r.kind, rule: r.refusals?.[0]?.rule ?? r.checks?.find((c) => !c.ok)?.rule ?? "plan", stage: "run" });
      }
    } catch {
      // riders and observers are secondary to the record just written
    }
  }

  /** Counts an engine run of `id` on `site` at `atMs` (idempotent per operation). */
  async recordRun(site: string, id: string, atMs: number): Promise<void> {
    await this.redis
      .multi()
      .zadd(siteRunsKey(site), atMs, id)
      .zremrangebyscore(siteRunsKey(site), "-inf", atMs - 2 * 3600_000)
      .exec()
      .then(throwOnMultiError);
  }

  async runsSince(site: string, sinceMs: number, excludeId?: string): Promise<number> {
    const ids = await this.redis.zrangebyscore(siteRunsKey(site), sinceMs, "+inf");
    return ids.filter((i) => i !== excludeId).length;
  }

  async addAwaiting(id: string, expiresAtMs: number): Promise<void> {
    await this.redis.zadd(AWAITING_KEY, expiresAtMs, id);
  }

  async removeAwaiting(id: string): Promise<void> {
    await this.redis.zrem(AWAITING_KEY, id);
  }

  /** Operations whose approval window ended by `nowMs`. */
  async dueAwaiting(nowMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(AWAITING_KEY, "-inf", nowMs);
  }

  async event(id: string, type: string, data: Record<string, unknown>): Promise<void> {
    await this.redis.xadd(eventsKey(id), "MAXLEN", "~", "5000", "*", "type", type, "data", JSON.stringify(data));
  }

  /** Events after `afterId` ("0" for all); blocks up to `blockMs` on the given connection when none are there yet. */
  async readEvents(id: string, afterId: string, blockMs: number, conn: IORedis = this.redis): Promise<LedgerEvent[]> {
    const res = (blockMs > 0
      ? await conn.xread("COUNT", 500, "BLOCK", blockMs, "STREAMS", eventsKey(id), afterId)
      : await conn.xread("COUNT", 500, "STREAMS", eventsKey(id), afterId)) as Array<[string, Array<[string, string[]]>]> | null;
    if (!res) return [];
    return res[0]![1].map(([eid, kv]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i < kv.length; i += 2) m[kv[i]!] = kv[i + 1]!;
      return { id: eid, type: m.type ?? "unknown", data: JSON.parse(m.data ?? "{}") as Record<string, unknown> };
    });
  }

  /** Newest first. */
  async listForSite(site: string, limit: number): Promise<OperationRecord[]> {
    const ids = await this.redis.zrevrange(siteOpsKey(site), 0, limit - 1);
    const recs = await Promise.all(ids.map((id) => this.get(id)));
    return recs.filter((r): r is OperationRecord => r !== undefined);
  }

  async siteState(site: string): Promise<SiteState> {
    const h = await this.redis.hgetall(siteKey(site));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(h)) out[k] = JSON.parse(v);
    return out as SiteState;
  }

  async setSiteState(site: string, fields: Partial<SiteState>): Promise<void> {
    await this.redis.hset(siteKey(site), encode(fields));
  }

  async clearPendingWrite(site: string): Promise<void> {
    await this.redis.hdel(siteKey(site), "pendingWrite");
  }

  /**
   * Claims an Idempotency-Key for `operationId`. When the key was claimed before, returns the first
   * claim so the caller can answer with the first operation (or refuse a different request).
   */
  async claimIdempotencyKey(
    tokenId: string,
    keyHash: string,
    claim: { operationId: string; requestHash: string },
    ttlSeconds: number,
  ): Promise<{ claimed: true } | { claimed: false; operationId: string; requestHash: string }> {
    const k = `${PREFIX}:idem:${tokenId}:${keyHash}`;
    const ok = await this.redis.set(k, JSON.stringify(claim), "EX", ttlSeconds, "NX");
    if (ok === "OK") return { claimed: true };
    const prev = JSON.parse((await this.redis.get(k)) ?? "{}") as { operationId: string; requestHash: string };
    return { claimed: false, ...prev };
  }

  async releaseIdempotencyKey(tokenId: string, keyHash: string): Promise<void> {
    await this.redis.del(`${PREFIX}:idem:${tokenId}:${keyHash}`);
  }
}

function encode(fields: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = JSON.stringify(v);
  return out;
}

function throwOnMultiError(res: Array<[Error | null, unknown]> | null): void {
  for (const [err] of res ?? []) if (err) throw err;
}
