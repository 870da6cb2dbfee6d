import { AppError } from "../errors";
import type { LiveFacts } from "./live-db-node";
import { POSTGRES_SITES, type LiveDbSettings } from "./live-db-settings";
import { observePostgresNode } from "./postgres-node-facts";

/** Live mode cannot read a fact the failover gates need: refuse rather than promote blind. */
export class LiveFactsNotImplementedError extends AppError {
  constructor(site: string, missing: string) {
    super("LIVE_FACTS_NOT_IMPLEMENTED", `live mode cannot read ${missing} for ${site} yet: not implemented`, {
      site,
      missing,
    });
  }
}

/** A PostgreSQL site live mode could observe, but STACKYARD_LIVE_DB_FILE does not name. */
export class LiveFactsNotConfiguredError extends AppError {
  constructor(site: string) {
    super(
      "LIVE_FACTS_NOT_CONFIGURED",
      `live mode has no database settings for ${site} (STACKYARD_LIVE_DB_FILE); refusing to promote blind`,
      { site },
    );
  }
}

/**
 * Facts from the real databases (live mode), for the sites STACKYARD_LIVE_DB_FILE names: every node
 * of the site is asked at once. A node that cannot be reached is left out (the failover gate then
 * refuses it as unobserved) and reported through `onUnreachable`. A PostgreSQL site the file does
 * not name is refused with LIVE_FACTS_NOT_CONFIGURED; MySQL (Insync) and DigitalOcean managed
 * replicas (datafruits) with LIVE_FACTS_NOT_IMPLEMENTED: never a pretence that the standby is fine.
 */
export function createLiveFacts(
  settings: LiveDbSettings,
  onUnreachable: (site: string, node: string, error: string) => void = () => undefined,
): LiveFacts {
  return {
    dbNodes: async (site) => {
      const s = settings[site as keyof LiveDbSettings];
      if (!s) {
        if ((POSTGRES_SITES as readonly string[]).includes(site)) throw new LiveFactsNotConfiguredError(site);
        throw new LiveFactsNotImplementedError(
          site,
          "database node health and replication lag (MySQL replica status / DigitalOcean replica status)",
        );
      }
      const seen = await Promise.all(Object.keys(s.nodes).map((name) => observePostgresNode(name, s)));
      for (const o of seen) if (!o.ok) onUnreachable(site, o.name, o.error);
      return seen.flatMap((o) => (o.ok ? [o.node] : []));
    },
  };
}
