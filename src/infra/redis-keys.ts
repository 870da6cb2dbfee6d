import { createHash } from "node:crypto";

/**
 * Every Redis key and channel the service spells, in one place (BullMQ's `QueueKeys`). All share
 * the `stackyard:` prefix; BullMQ's own keys live under its `bull:` prefix.
 */
export const PREFIX = "stackyard";

export const redisKeys = {
  /** An operation's record (hash, one field per top-level key, JSON values). */
  op: (id: string) => `${PREFIX}:op:${id}`,
  /** An operation's event stream (SSE). */
  events: (id: string) => `${PREFIX}:op:${id}:events`,
  /** Operations that rode on this one (coalesced requests, see src/schedules/scale-coalescer.ts). */
  riders: (id: string) => `${PREFIX}:op:${id}:riders`,
  /** A site's operations, scored by creation time. */
  siteOps: (site: string) => `${PREFIX}:site:${site}:ops`,
  /** What the service remembers of a site between operations. */
  site: (site: string) => `${PREFIX}:site:${site}`,
  /** Engine runs per site, scored by start time (the rate guard counts them). */
  siteRuns: (site: string) => `${PREFIX}:site:${site}:runs`,
  /** Operations waiting for approval, scored by their expiry. */
  awaitingApproval: `${PREFIX}:awaiting-approval`,
  /** A client's Idempotency-Key (hashed), per token. */
  idempotency: (tokenId: string, keyHash: string) => `${PREFIX}:idem:${tokenId}:${keyHash}`,
  /** Run times (seconds) of a stack's last succeeded operations of one kind, newest first (queue wait estimates). */
  runDurations: (site: string, kind: string) => `${PREFIX}:site:${site}:durations:${kind}`,
  /** The pending scale-sidekiq operation of a stack and pool (the coalescer). */
  coalesce: (site: string, pool: string) => `${PREFIX}:coalesce:${site}:scale-sidekiq:${pool}`,
  /** The pending detect-drift operation of a stack (later detections ride on it while it is queued). */
  coalesceDrift: (site: string) => `${PREFIX}:coalesce:${site}:detect-drift`,
  /** The last drift report of a site (JSON, src/operations/drift-store.ts). */
  drift: (site: string) => `${PREFIX}:site:${site}:drift`,
  /** Drift detections per site and result (hash `<site>|<drifted|clean>` → count), for /metrics. */
  driftDetections: `${PREFIX}:drift:detections`,
  /** The service's own schedules of a site (drift detection; hash, id → JSON): configuration, not listed or capped. */
  systemSchedules: (site: string) => `${PREFIX}:system-schedules:${site}`,
  /** A site's schedules (hash, id → JSON). */
  schedules: (site: string) => `${PREFIX}:schedules:${site}`,
  /** The service's per-stack lock and its fence counter. */
  stackLock: (stack: string) => `${PREFIX}:stacklock:${stack}`,
  stackFence: (stack: string) => `${PREFIX}:stackfence:${stack}`,
  /** Replay protection of signed chat requests. */
  chatNonce: (channel: string, signatureHash: string) => `${PREFIX}:chat:nonce:${channel}:${signatureHash}`,
  chatBody: (bodyHash: string) => `${PREFIX}:chat:body:${bodyHash}`,
  /** A dashboard session, by the SHA-256 of its id (the id itself is never stored). */
  dashboardSession: (sid: string) =>
    `${PREFIX}:dash:session:${createHash("sha256").update(sid).digest("hex")}`,
  /** rate-limiter-flexible's key prefix for the API's per-token limit. */
  rateLimitPrefix: `${PREFIX}:ratelimit`,
  /** The write each Redis WAIT round makes first, so the WAIT covers every connection's earlier writes (src/infra/replica-wait.ts). */
  replicaWaitProbe: `${PREFIX}:replica-wait:probe`,
  /**
   * The shared-turn queue layout (src/workers/stack-turns.ts): one BullMQ queue of turns, and per
   * stack a FIFO of its operations' runs and a turn token. All in one hash tag (`{turns}`), so the
   * scripts that touch a stack's keys and the shared counter and index run on one Redis Cluster slot.
   */
  turns: {
    /** A stack's queued runs, oldest first (a list of JSON entries; gone when empty). */
    pending: (stack: string) => `${PREFIX}:{turns}:pending:${stack}`,
    /** The id of the stack's one turn job, while it has runs (gone when idle). */
    turn: (stack: string) => `${PREFIX}:{turns}:turn:${stack}`,
    /** The head entry a turn has started (a cancel no longer removes it). */
    started: (stack: string) => `${PREFIX}:{turns}:started:${stack}`,
    /** Per-stack counter behind each entry's sequence number (its FIFO position). */
    opSeq: (stack: string) => `${PREFIX}:{turns}:opseq:${stack}`,
    /** Marks an entry id as queued (with a TTL), so a duplicate enqueue is a no-op. */
    entry: (entryId: string) => `${PREFIX}:{turns}:entry:${entryId}`,
    /** Counter behind the turn job ids: each turn is a new job, so a finished one is never re-added. */
    turnSeq: `${PREFIX}:{turns}:turnseq`,
    /** Stacks holding a turn, scored by when it was last set or checked (the sweeper's index). */
    index: `${PREFIX}:{turns}:index`,
  },
  /** Pub/sub channel on which cancel requests reach every worker. */
  cancelChannel: `${PREFIX}:cancel`,
} as const;
