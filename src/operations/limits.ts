import type { SiteId } from "../programs/site-config";

/**
 * Bounds the operations enforce per site (domain research §3). They are the floor the policy issue
 * builds on: numbers here are what each substrate can carry, not preferences.
 */
export const SIDEKIQ_PROCESS_LIMITS: Partial<Record<SiteId, { min: number; max: number; why: string }>> = {
  // One Linode 8GB also runs PostgreSQL, Elasticsearch and Redis: ~1 GiB per Rails process.
  vulpine: { min: 1, max: 6, why: "the Linode 8GB also hosts PostgreSQL, Elasticsearch and Redis" },
  // parasect runs web, streaming and sidekiq under compose; tempo's max_connections bounds the total.
  chitter: { min: 1, max: 8, why: "compose replicas on the app server, bounded by tempo's max_connections" },
  // One droplet per process; more than 6 outgrows the primary's connection budget.
  theatl: { min: 1, max: 6, why: "one droplet per process, bounded by the PostgreSQL connection budget" },
  // Deployment replicas on a 3-5 node pool.
  datafruits: { min: 1, max: 10, why: "worker Deployment replicas on a node pool of at most 5 nodes" },
};

/** Read-only nodes per primary (hot standbys included), per site. */
export const REPLICA_LIMITS: Partial<Record<SiteId, { max: number; why: string }>> = {
  theatl: { max: 3, why: "a hot standby plus at most two read replicas per primary" },
  insync: { max: 3, why: "db-slave02 plus at most two more MySQL replicas" },
  datafruits: { max: 2, why: "managed read-only replicas capped at two for cost" },
};

/** Failover refuses a standby further behind than this unless the request accepts data loss. */
export const FAILOVER_MAX_LAG_SECONDS = 30;
