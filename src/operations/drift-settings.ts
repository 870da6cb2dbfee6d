import { z } from "zod";
import { readSettingsFile } from "../infra/settings-file";
import { SITE_IDS, type SiteId } from "../programs/sites";

/**
 * Per site: when drift is looked for, what is done about it, and where a finding is posted.
 * `remediate`: `false` reports only; `refresh` accepts the cloud into the state (the detection
 * refreshes); `revert` asks for a `revert-drift` operation (preview, policy pack, blast radius and
 * approval, like any change), which applies the program's desired state back.
 */
export const siteDriftSettingsSchema = z.strictObject({
  /** Detection schedule (5 fields, or 6 with seconds first). @defaultValue daily at 04:00 */
  cron: z.string().min(9).max(120).default("0 4 * * *"),
  timezone: z.string().max(64).default("UTC"),
  /** Off: no schedule (on-demand detection still works). @defaultValue true */
  enabled: z.boolean().default(true),
  remediate: z.union([z.literal(false), z.literal("refresh"), z.literal("revert")]).default(false),
  /**
   * A chat webhook (e.g. a Slack incoming-webhook URL) that gets each finding. It is a bearer
   * capability: never logged or returned. Checked like reply URLs (allow-listed https hosts;
   * loopback only in the sandbox on STACKYARD_SANDBOX_REPLY_PORTS).
   */
  chatUrl: z.url().optional(),
});
export type SiteDriftSettings = z.infer<typeof siteDriftSettingsSchema>;

/** STACKYARD_DRIFT_FILE: `{ "<site>": { cron?, timezone?, enabled?, remediate?, chatUrl? } }`. */
export const driftOverridesSchema = z.partialRecord(z.enum(SITE_IDS), siteDriftSettingsSchema);
export type DriftOverrides = z.infer<typeof driftOverridesSchema>;

export const DEFAULT_DRIFT_SETTINGS: SiteDriftSettings = siteDriftSettingsSchema.parse({});

export function loadDriftOverrides(file: string | undefined): DriftOverrides {
  return readSettingsFile("STACKYARD_DRIFT_FILE", file, driftOverridesSchema);
}

export function driftSettingsFor(site: string, overrides: DriftOverrides = {}): SiteDriftSettings {
  return overrides[site as SiteId] ?? DEFAULT_DRIFT_SETTINGS;
}

/** The principal the service's own drift schedules and remediation requests act as. */
export const DRIFT_PRINCIPAL = "system:drift";
