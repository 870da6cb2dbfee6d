import { z } from "zod";
import { parseSettings, readSettingsFile } from "../../infra/settings-file";
import { SITE_IDS, SITES, type SiteId } from "../../programs/sites";
import { FAILOVER_MAX_LAG_SECONDS, FAILOVER_MAX_REPLAY_GAP_BYTES } from "../limits";
import { OPERATION_KINDS } from "../registry";

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "HH:MM (UTC)");

/** One allowed change window, in UTC. `end` before `start` wraps past midnight. */
const windowSchema = z.strictObject({
  /** 0 = Sunday … 6 = Saturday. */
  days: z.array(z.int().min(0).max(6)).min(1).default([0, 1, 2, 3, 4, 5, 6]),
  start: hhmm,
  end: hhmm,
});
export type ChangeWindow = z.infer<typeof windowSchema>;

const settingsSchema = z.strictObject({
  /** Sidekiq pool processes (the scheduler excluded), summed over pools; null where the site has no sidekiq. */
  sidekiq: z.strictObject({ min: z.int().min(0), max: z.int().min(1), why: z.string() }).nullable(),
  /** Read-only nodes (standbys included) per primary; null where the site has no second database node. */
  replicas: z.strictObject({ max: z.int().min(0), why: z.string() }).nullable(),
  /**
   * The database connection budget (research §3): sidekiq threads + web workers×threads + streaming
   * pools + an admin reserve must stay under `headroom × (maxConnections − 3)`. null where no Rails app uses the database.
   */
  connections: z
    .strictObject({
      maxConnections: z.int().min(10),
      webConnectionsPerProcess: z.int().min(0),
      streamingPoolPerProcess: z.int().min(0),
      adminReserve: z.int().min(0),
      headroom: z.number().gt(0).max(1),
      source: z.string(),
    })
    .nullable(),
  /** Monthly cost ceiling in the site's billing currency; an operation raising the cost by more than `approvalDelta` needs approval. */
  cost: z.strictObject({
    currency: z.enum(["USD", "EUR"]),
    monthlyCeiling: z.number().positive(),
    approvalDelta: z.number().nonnegative(),
    why: z.string(),
  }),
  /** Allowed change windows (UTC); empty means any time. */
  changeWindows: z.array(windowSchema),
  /** Operations allowed outside the windows as emergencies (the window is recorded on the operation). */
  emergencyKinds: z.array(z.enum(OPERATION_KINDS)),
  /** Engine runs per site per rolling hour. */
  maxOperationsPerHour: z.int().min(1),
  /** Failover gates (research §2.3): a healthy standby no further behind than this. */
  failover: z.strictObject({
    maxLagSeconds: z.number().min(0),
    /** Un-replayed WAL the standby may hold (PostgreSQL; the simulated and MySQL facts report none). */
    maxReplayGapBytes: z.int().min(0).default(FAILOVER_MAX_REPLAY_GAP_BYTES),
  }),
  /** Operations that always wait for a second principal's approval after preview. */
  approvalKinds: z.array(z.enum(OPERATION_KINDS)),
});
export type SiteGuardSettings = z.infer<typeof settingsSchema>;

const COMMON = {
  changeWindows: [] as ChangeWindow[],
  emergencyKinds: ["failover"] as SiteGuardSettings["emergencyKinds"],
  // A script or chat loop gone wrong must not churn a site; a busy day of scaling stays well under.
  maxOperationsPerHour: 20,
  failover: { maxLagSeconds: FAILOVER_MAX_LAG_SECONDS, maxReplayGapBytes: FAILOVER_MAX_REPLAY_GAP_BYTES },
  // revert-drift changes production back from what someone did by hand: a second person agrees.
  approvalKinds: ["failover", "revert-drift"] as SiteGuardSettings["approvalKinds"],
};

/**
 * Defaults per site: what every site shares, then each site's own figures from its definition
 * (seeds and research/domain.md §3–4). docs/policy.md explains each figure; STACKYARD_GUARDS_FILE
 * overrides any of them per site.
 */
export const DEFAULT_GUARD_SETTINGS: Readonly<Record<SiteId, SiteGuardSettings>> = Object.fromEntries(
  SITE_IDS.map((s): [SiteId, SiteGuardSettings] => [s, { ...COMMON, ...SITES[s].guardDefaults }]),
) as Record<SiteId, SiteGuardSettings>;

/** STACKYARD_GUARDS_FILE: `{ "<site>": { <any top-level setting>: <value> } }`; each named setting replaces the default whole. */
export const guardOverridesSchema = z.partialRecord(z.enum(SITE_IDS), settingsSchema.partial());
export type GuardOverrides = z.infer<typeof guardOverridesSchema>;

/** Reads and validates an overrides file once at start-up; a bad file stops the service with the key named. */
export function loadGuardOverrides(file: string | undefined): GuardOverrides {
  return readSettingsFile("STACKYARD_GUARDS_FILE", file, guardOverridesSchema);
}

export function parseGuardOverrides(raw: unknown, where = "guard overrides"): GuardOverrides {
  return parseSettings(where, raw, guardOverridesSchema);
}

export function guardSettingsFor(site: SiteId, overrides: GuardOverrides = {}): SiteGuardSettings {
  return { ...DEFAULT_GUARD_SETTINGS[site], ...(overrides[site] ?? {}) } as SiteGuardSettings;
}
