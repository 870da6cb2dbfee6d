/** A database node as the live system reports it. */
export interface LiveDbNode {
  name: string;
  role: "primary" | "standby" | "replica";
  replicationLagSeconds: number;
  healthy: boolean;
  /** WAL received but not yet replayed (PostgreSQL standbys); absent where the source cannot tell. */
  replayGapBytes?: number;
  /** Why the node is unhealthy, in the source's words. */
  detail?: string;
}

/** Facts only the live system knows (the sandbox answers for the simulated clouds). */
export interface LiveFacts {
  /** Database nodes of a site, or undefined when this deployment cannot observe them. */
  dbNodes(site: string): Promise<LiveDbNode[] | undefined>;
}
