import { AppError } from "../errors";
import type { LiveFacts } from "./checks";

/** Live mode cannot read a fact the failover gates need: refuse rather than promote blind. */
export class LiveFactsNotImplementedError extends AppError {
  constructor(site: string, missing: string) {
    super("LIVE_FACTS_NOT_IMPLEMENTED", 501, `live mode cannot read ${missing} for ${site} yet: not implemented`, { site, missing });
  }
}

/**
 * Facts from the real systems (live mode). Not implemented: reading standby health and lag needs a
 * read-only database role per site (pg_stat_replication / pg_last_xact_replay_timestamp on
 * PostgreSQL, SHOW REPLICA STATUS on MySQL, the DigitalOcean replica API for managed clusters) and
 * a path to it from the workers. Until that exists every failover in live mode is refused with
 * this error instead of pretending the standby is fine.
 */
export const LIVE_FACTS: LiveFacts = {
  dbNodes: async (site) => {
    throw new LiveFactsNotImplementedError(
      site,
      "database node health and replication lag (pg_stat_replication / SHOW REPLICA STATUS / DigitalOcean replica status; needs a read-only DB role per site)",
    );
  },
};
