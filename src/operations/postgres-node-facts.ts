import * as fs from "node:fs";
import { Client, type ClientConfig } from "pg";
import type { LiveDbNode } from "./live-db-node";
import type { PostgresSiteSettings } from "./live-db-settings";

/**
 * One round trip per node (research §2.3, failover gates 1–2): in recovery or not; the WAL
 * receiver's state and how long since it last heard from the primary; the replay lag, read with the
 * receive/replay LSN gap (an idle primary inflates `now() - pg_last_xact_replay_timestamp()`, so a
 * standby that replayed everything it received lags 0); and the un-replayed WAL in bytes.
 */
const FACTS_SQL = `
SELECT pg_is_in_recovery() AS in_recovery,
       r.status AS receiver_status,
       EXTRACT(EPOCH FROM (now() - r.last_msg_receipt_time))::float8 AS receiver_silence_s,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp()))::float8 END AS lag_s,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8 AS gap_bytes
FROM (SELECT 1) AS one LEFT JOIN pg_stat_wal_receiver AS r ON true`;

interface FactsRow {
  in_recovery: boolean;
  receiver_status: string | null;
  receiver_silence_s: number | null;
  lag_s: number | null;
  gap_bytes: number;
}

function tlsOption(s: PostgresSiteSettings): ClientConfig["ssl"] {
  switch (s.tls) {
    case "disable":
      return false;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-full":
      return { rejectUnauthorized: true, ...(s.caFile ? { ca: fs.readFileSync(s.caFile, "utf8") } : {}) };
  }
}

/** What one row says about a node: a primary is healthy when it answers; a standby must be streaming and recently heard from. */
export function nodeFromRow(name: string, row: FactsRow, maxReceiverSilenceSeconds: number): LiveDbNode {
  if (!row.in_recovery) return { name, role: "primary", replicationLagSeconds: 0, healthy: true };
  const lag = row.lag_s === null ? Number.POSITIVE_INFINITY : Math.round(row.lag_s * 10) / 10;
  const base = {
    name,
    role: "standby" as const,
    replicationLagSeconds: lag,
    replayGapBytes: Math.max(0, Math.round(row.gap_bytes)),
  };
  if (row.receiver_status !== "streaming") {
    return {
      ...base,
      healthy: false,
      detail: `WAL receiver is ${row.receiver_status ?? "not running"} (limit: streaming)`,
    };
  }
  if (row.receiver_silence_s !== null && row.receiver_silence_s > maxReceiverSilenceSeconds) {
    const heard = Math.round(row.receiver_silence_s);
    return {
      ...base,
      healthy: false,
      detail: `last message from the primary ${heard} s ago (limit: ${maxReceiverSilenceSeconds} s)`,
    };
  }
  if (!Number.isFinite(lag))
    return { ...base, healthy: false, detail: "WAL received but no transaction replayed yet" };
  return { ...base, healthy: true };
}

export type NodeObservation = { ok: true; node: LiveDbNode } | { ok: false; name: string; error: string };

/** Connects as the site's monitoring role and reads the node's facts; an unreachable node is reported, not thrown. */
export async function observePostgresNode(name: string, s: PostgresSiteSettings): Promise<NodeObservation> {
  const addr = s.nodes[name]!;
  const client = new Client({
    host: addr.host,
    port: addr.port,
    user: s.user,
    password: s.password,
    database: s.database,
    ssl: tlsOption(s),
    connectionTimeoutMillis: s.connectTimeoutMs,
    query_timeout: s.connectTimeoutMs,
    application_name: "stackyard-facts",
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<FactsRow>(FACTS_SQL);
    return { ok: true, node: nodeFromRow(name, rows[0]!, s.maxReceiverSilenceSeconds) };
  } catch (err) {
    return { ok: false, name, error: (err as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}
