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
  /** Pub/sub channel on which cancel requests reach every worker. */
  cancelChannel: `${PREFIX}:cancel`,
} as const;
