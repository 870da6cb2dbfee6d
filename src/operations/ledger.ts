import type { FailureCode } from "../errors";
import type IORedis from "ioredis";
import { redisCommands } from "../infra/redis-commands";
import { redisKeys } from "../infra/redis-keys";
import { hasOperationObservers, notifyFinished, notifyRefused } from "./finish-observers";
import {
  isTerminal,
  TERMINAL_STATUSES,
  type OperationRecord,
  type OperationStatus,
} from "./operation-record";
import type { OperationRetention } from "./retention";
import { RunDurations } from "./run-durations";

/** A line of an operation's live log, as SSE clients see it. */
export interface LedgerEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const opKey = redisKeys.op;
const eventsKey = redisKeys.events;
const siteOpsKey = redisKeys.siteOps;
const siteKey = redisKeys.site;
const ridersKey = redisKeys.riders;
const siteRunsKey = redisKeys.siteRuns;
const AWAITING_KEY = redisKeys.awaitingApproval;

// The move itself is src/infra/lua/ledger-transition-3.lua (one terminal transition per operation).

/** Failure codes that mean a rule said no at run time (counted as refusals by the observers). */
const RULE_REFUSALS = new Set<FailureCode | undefined>([
  "GUARD_REFUSED",
  "BLAST_RADIUS_EXCEEDED",
  "POLICY_VIOLATION",
]);

/** Who moved an operation: the path that ended it is kept on the record (`endedBy`), so a second finisher can be traced. */
export type TransitionPath =
  "submit" | "runner" | "worker-lost" | "approval" | "expiry" | "cancel" | "rider" | "rejection";

export interface TransitionOptions {
  /** The run's fence (see Ledger.claimRun): refused once another run has claimed the operation. */
  fence?: number;
  by?: TransitionPath;
  /** Written to the site's state in the same atomic step (the runner's success). */
  site?: { site: string; set: Partial<SiteState>; clearPendingWrite?: boolean };
}

export type TransitionResult = "done" | "not-allowed" | "already-ended" | "fenced-out" | "missing";
const RESULTS: Record<string, TransitionResult> = {
  "1": "done",
  "0": "not-allowed",
  "2": "already-ended",
  "3": "fenced-out",
  "-1": "missing",
};

/** What the service remembers of a site between operations. */
export interface SiteState {
  configRevision?: number;
  lastOperationId?: string;
  outputs?: Record<string, unknown>;
  updatedAt?: string;
  commit?: string;
  /** The stack file before an operation rewrote it, kept until that operation ends (restore on failure). */
  pendingWrite?: { operationId: string; previousText: string; revision: number };
  /** The newest rehearsal that ended (a run on the site's sandbox twin; it changed nothing live). */
  lastRehearsal?: { operationId: string; kind: string; status: string; finishedAt: string };
}

/** The record fields `summariesForSite` reads. */
const SUMMARY_FIELDS = [
  "id",
  "site",
  "kind",
  "status",
  "requester",
  "createdAt",
  "startedAt",
  "finishedAt",
  "plan",
  "reason",
  "coalescedInto",
  "approval",
  "rehearsal",
] as const satisfies ReadonlyArray<keyof OperationRecord>;
export type OperationSummary = Pick<OperationRecord, (typeof SUMMARY_FIELDS)[number]>;

/** The fields a stack's queue order and wait estimates need (what every 202 answer computes). */
const QUEUE_FIELDS = [
  "id",
  "kind",
  "status",
  "createdAt",
  "startedAt",
  "coalescedInto",
] as const satisfies ReadonlyArray<(typeof SUMMARY_FIELDS)[number]>;
export type QueueSummary = Pick<OperationRecord, (typeof QUEUE_FIELDS)[number]>;

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
      .xadd(
        eventsKey(rec.id),
        "MAXLEN",
        "~",
        "5000",
        "*",
        "type",
        "status",
        "data",
        JSON.stringify({ status: rec.status }),
      )
      .exec()
      .then(throwOnMultiError);
  }

  /**
   * Writes `rec`, or lets it ride on the operation pending under `pendingKey` (a coalescer's key):
   * when that one is still queued and neither involves an approval, it takes `rec`'s params, `rec`
   * is recorded as its rider, and its id is returned (nothing to enqueue). Otherwise `rec` is
   * written and becomes the pending one. One atomic script (ledger-create-or-ride-4.lua).
   */
  async createOrRide(pendingKey: string, rec: OperationRecord): Promise<string | undefined> {
    const suffix = (key: (id: string) => string) => key("x").slice(opKey("x").length);
    const carrier = (await redisCommands(this.redis).ledgerCreateOrRide(
      pendingKey,
      opKey(rec.id),
      siteOpsKey(rec.site),
      eventsKey(rec.id),
      rec.id,
      String(Date.parse(rec.createdAt)),
      JSON.stringify(rec.params),
      opKey(""),
      JSON.stringify({ status: rec.status }),
      JSON.stringify({ operationId: rec.id, params: rec.params }),
      rec.approval ? "1" : "0",
      JSON.stringify("queued"),
      suffix(ridersKey),
      suffix(eventsKey),
      "coalescedInto" satisfies keyof OperationRecord,
      ...Object.entries(encode(rec)).flat(),
    )) as string;
    return carrier === "" ? undefined : carrier;
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
  async transition(
    id: string,
    from: OperationStatus[],
    to: OperationStatus,
    fields: Partial<OperationRecord> = {},
    opts: TransitionOptions = {},
  ): Promise<boolean> {
    return (await this.move(id, from, to, fields, opts)) === "done";
  }

  /**
   * `transition` with its whole answer. A refused second ending is recorded on the operation
   * (`duplicate-finish-refused`, naming the path that tried), so a double run can be traced.
   */
  async move(
    id: string,
    from: OperationStatus[],
    to: OperationStatus,
    fields: Partial<OperationRecord> = {},
    opts: TransitionOptions = {},
  ): Promise<TransitionResult> {
    const by = opts.by ?? "runner";
    // The record keeps which path ended it (`endedBy`); the status event stays what clients read.
    const pairs = Object.entries(
      encode({ ...fields, status: to, ...(isTerminal(to) ? { endedBy: by } : {}) }),
    ).flat();
    const data = JSON.stringify({ status: to, ...(fields.reason ? { reason: fields.reason } : {}) });
    const site = opts.site;
    const r = await redisCommands(this.redis).ledgerTransition(
      opKey(id),
      eventsKey(id),
      siteKey(site?.site ?? ""),
      JSON.stringify(from),
      JSON.stringify(TERMINAL_STATUSES),
      opts.fence === undefined ? "" : JSON.stringify(opts.fence),
      data,
      site ? "1" : "0",
      JSON.stringify(site ? encode(site.set) : {}),
      site?.clearPendingWrite ? "1" : "0",
      ...pairs,
    );
    const result = RESULTS[String(r)] ?? "missing";
    if (result === "done" && isTerminal(to)) await this.finished(id, to);
    if (result === "already-ended" && isTerminal(to))
      await this.event(id, "duplicate-finish-refused", { attempted: to, by }).catch(() => undefined);
    return result;
  }

  /**
   * The run that holds the stack lock claims the operation: status `running`, its fence (the stack
   * lock's, which only grows) on the record. Every later move of that run passes the fence, so a
   * run that lost the stack can no longer end the operation another run now holds.
   */
  async claimRun(id: string, fence: number, fields: Partial<OperationRecord>): Promise<TransitionResult> {
    return this.move(id, ["queued", "running"], "running", { ...fields, fence });
  }

  /**
   * The one place every operation ends: requests that rode on it end with its outcome, and
   * observers (metrics) hear of it. Runs after the status is written; never fails the transition.
   */
  private async finished(id: string, to: OperationStatus): Promise<void> {
    await this.retention?.finished(id).catch(() => undefined);
    try {
      const riders = await this.redis.smembers(ridersKey(id));
      const rec =
        riders.length > 0 || hasOperationObservers() || to === "succeeded" ? await this.get(id) : undefined;
      // The queue's wait estimates read recent run times (src/operations/site-state.ts).
      if (rec) await new RunDurations(this.redis).recordFinished(rec).catch(() => undefined);
      for (const rider of riders) {
        const reason = `carried by ${id}${rec?.reason ? `: ${rec.reason}` : ""}`;
        await this.transition(
          rider,
          ["queued"],
          to,
          {
            reason,
            ...(rec?.failure ? { failure: rec.failure } : {}),
            finishedAt: rec?.finishedAt ?? new Date().toISOString(),
            revision: rec?.revision,
          },
          { by: "rider" },
        );
      }
      if (!rec || !hasOperationObservers()) return;
      const r = rec;
      notifyFinished({
        id,
        site: r.site,
        kind: r.kind,
        status: to,
        reason: r.reason,
        createdAt: r.createdAt,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        checks: r.checks,
        coalescedInto: r.coalescedInto,
      });
      // A refusal at run time: the failed check names the rule (blast radius, live checks); a plan refusal has none.
      if (to === "failed" && !r.coalescedInto && RULE_REFUSALS.has(r.failure?.code)) {
        notifyRefused({
          site: r.site,
          kind: r.kind,
          rule: r.refusals?.[0]?.rule ?? r.checks?.find((c) => !c.ok)?.rule ?? "plan",
          stage: "run",
        });
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

  /** Operations waiting for approval, the soonest to expire first (at most `limit`). */
  async awaitingIds(limit: number): Promise<string[]> {
    return this.redis.zrange(AWAITING_KEY, 0, limit - 1);
  }

  /** Operations whose approval window ended by `nowMs`. */
  async dueAwaiting(nowMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(AWAITING_KEY, "-inf", nowMs);
  }

  async event(id: string, type: string, data: Record<string, unknown>): Promise<void> {
    await this.redis.xadd(
      eventsKey(id),
      "MAXLEN",
      "~",
      "5000",
      "*",
      "type",
      type,
      "data",
      JSON.stringify(data),
    );
  }

  /** Events after `afterId` ("0" for all); blocks up to `blockMs` on the given connection when none are there yet. */
  async readEvents(
    id: string,
    afterId: string,
    blockMs: number,
    conn: IORedis = this.redis,
  ): Promise<LedgerEvent[]> {
    const res = (
      blockMs > 0
        ? await conn.xread("COUNT", 500, "BLOCK", blockMs, "STREAMS", eventsKey(id), afterId)
        : await conn.xread("COUNT", 500, "STREAMS", eventsKey(id), afterId)
    ) as Array<[string, Array<[string, string[]]>]> | null;
    if (!res) return [];
    return parseStreamEntries(res[0]![1]);
  }

  /** Newest first. */
  async listForSite(site: string, limit: number): Promise<OperationRecord[]> {
    const ids = await this.redis.zrevrange(siteOpsKey(site), 0, limit - 1);
    const recs = await Promise.all(ids.map((id) => this.get(id)));
    return recs.filter((r): r is OperationRecord => r !== undefined);
  }

  /**
   * The newest `limit` operations of a site with only the fields a site's overview shows (no
   * preview, checks or outputs), read in one round trip.
   */
  async summariesForSite(site: string, limit: number): Promise<OperationSummary[]> {
    return this.fieldsForSite(site, limit, SUMMARY_FIELDS);
  }

  /** The newest `limit` operations of a site with only what their queue order needs. */
  async queueSummariesForSite(site: string, limit: number): Promise<QueueSummary[]> {
    return this.fieldsForSite(site, limit, QUEUE_FIELDS);
  }

  /** The named operations (those still in the ledger) with only what their queue order needs. */
  async queueSummaries(ids: readonly string[]): Promise<QueueSummary[]> {
    return this.fieldsOf(ids, QUEUE_FIELDS);
  }

  private async fieldsForSite<F extends keyof OperationRecord>(
    site: string,
    limit: number,
    fields: readonly F[],
  ): Promise<Array<Pick<OperationRecord, F>>> {
    return this.fieldsOf(await this.redis.zrevrange(siteOpsKey(site), 0, limit - 1), fields);
  }

  private async fieldsOf<F extends keyof OperationRecord>(
    ids: readonly string[],
    fields: readonly F[],
  ): Promise<Array<Pick<OperationRecord, F>>> {
    if (ids.length === 0) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hmget(opKey(id), ...fields);
    const res = (await pipe.exec()) ?? [];
    const out: Array<Pick<OperationRecord, F>> = [];
    res.forEach(([err, values]) => {
      if (err || !Array.isArray(values) || values[0] === null) return;
      const o: Record<string, unknown> = {};
      fields.forEach((f, i) => {
        const v = (values as Array<string | null>)[i];
        if (v !== null && v !== undefined) o[f] = JSON.parse(v);
      });
      out.push(o as unknown as Pick<OperationRecord, F>);
    });
    return out;
  }

  /** The newest event of `type` among an operation's last `scan` events (e.g. its current phase). */
  async lastEvent(id: string, type: string, scan = 500): Promise<LedgerEvent | undefined> {
    const entries = (await this.redis.xrevrange(eventsKey(id), "+", "-", "COUNT", scan)) as Array<
      [string, string[]]
    >;
    return parseStreamEntries(entries).find((e) => e.type === type);
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
    const k = redisKeys.idempotency(tokenId, keyHash);
    const ok = await this.redis.set(k, JSON.stringify(claim), "EX", ttlSeconds, "NX");
    if (ok === "OK") return { claimed: true };
    const prev = JSON.parse((await this.redis.get(k)) ?? "{}") as {
      operationId: string;
      requestHash: string;
    };
    return { claimed: false, ...prev };
  }

  async releaseIdempotencyKey(tokenId: string, keyHash: string): Promise<void> {
    await this.redis.del(redisKeys.idempotency(tokenId, keyHash));
  }
}

/** XREAD's entries (`[id, [field, value, …]]`) as ledger events. */
export function parseStreamEntries(entries: Array<[string, string[]]>): LedgerEvent[] {
  return entries.map(([eid, kv]) => {
    const m: Record<string, string> = {};
    for (let i = 0; i < kv.length; i += 2) m[kv[i]!] = kv[i + 1]!;
    return {
      id: eid,
      type: m.type ?? "unknown",
      data: JSON.parse(m.data ?? "{}") as Record<string, unknown>,
    };
  });
}

function encode(fields: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = JSON.stringify(v);
  return out;
}

function throwOnMultiError(res: Array<[Error | null, unknown]> | null): void {
  for (const [err] of res ?? []) if (err) throw err;
}
