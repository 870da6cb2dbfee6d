/**
 * Mastodon's database pools (research §2.1): puma WEB_CONCURRENCY 2 × MAX_THREADS 5 per web
 * process, the streaming server's DB_POOL 10, and 5 admin connections, under 0.8 of the server's limit.
 */
export const MASTODON_CONNECTIONS = {
  webConnectionsPerProcess: 10,
  streamingPoolPerProcess: 10,
  adminReserve: 5,
  headroom: 0.8,
} as const;
