/**
 * Code default of the failover lag gate. Per-site bounds (sidekiq, replicas, connections, cost,
 * windows, rate, lag) live in src/operations/guards/guard-settings.ts.
 */
export const FAILOVER_MAX_LAG_SECONDS = 30;
