/**
 * Code default of the failover lag gate. Per-site bounds (sidekiq, replicas, connections, cost,
 * windows, rate, lag) live in src/operations/guards/guard-settings.ts.
 */
export const FAILOVER_MAX_LAG_SECONDS = 30;

/** Code default of the un-replayed WAL a standby may hold at failover: one 16 MiB segment (research §2.3). */
export const FAILOVER_MAX_REPLAY_GAP_BYTES = 16 * 1024 * 1024;
