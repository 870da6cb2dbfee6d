import { z } from "zod";
import { readSettingsFile } from "../infra/settings-file";
import { SITE_IDS, SITES, type SiteId } from "../programs/sites";
import { nodeNameSchema } from "./common-schemas";

/** Sites whose database nodes are self-managed PostgreSQL, the one engine live facts can read today. */
export const POSTGRES_SITES: readonly SiteId[] = SITE_IDS.filter((s) => SITES[s].liveDb === "postgresql");

const nodeSchema = z.strictObject({
  /** The node's private address (the workers must reach it). */
  host: z.string().min(1),
  port: z.int().min(1).max(65535).default(5432),
});

const siteSchema = z.strictObject({
  engine: z.literal("postgresql"),
  /** A monitoring role (`pg_monitor` is enough); never a superuser. */
  user: z.string().min(1),
  password: z.string().min(1),
  database: z.string().min(1).default("postgres"),
  /** `verify-full` checks the server certificate against `caFile`; `disable` only on a trusted private link. */
  tls: z.enum(["disable", "require", "verify-full"]).default("verify-full"),
  caFile: z.string().optional(),
  connectTimeoutMs: z.int().min(100).max(60_000).default(3000),
  /**
   * A standby that has heard nothing from its primary for longer is not healthy. An idle primary
   * sends a keepalive every wal_sender_timeout/2 (30 s by default), so the default leaves room for one.
   */
  maxReceiverSilenceSeconds: z.number().positive().default(60),
  /** Every node of the site's PostgreSQL topology, by the names the stack file uses. */
  nodes: z.record(nodeNameSchema, nodeSchema).refine((n) => Object.keys(n).length > 0, "at least one node"),
});
export type PostgresSiteSettings = z.infer<typeof siteSchema>;

const POSTGRES_ONLY = (site: string) =>
  `${site}: live facts read self-managed PostgreSQL only (${POSTGRES_SITES.join(", ")}); MySQL replica status and DigitalOcean managed replicas are not implemented`;

/** STACKYARD_LIVE_DB_FILE: `{ "<site>": { engine, user, password, nodes: { "<node>": { host, port } } } }`. A secret file. */
export const liveDbSettingsSchema = z.partialRecord(z.enum(SITE_IDS), siteSchema).superRefine((v, ctx) => {
  for (const site of Object.keys(v)) {
    if (!(POSTGRES_SITES as readonly string[]).includes(site))
      ctx.addIssue({ code: "custom", path: [site], message: POSTGRES_ONLY(site) });
  }
});
export type LiveDbSettings = z.infer<typeof liveDbSettingsSchema>;

/** Reads and validates the file once at start-up. Messages name the key, never a value (the file holds passwords). */
export function loadLiveDbSettings(file: string | undefined): LiveDbSettings {
  return readSettingsFile("STACKYARD_LIVE_DB_FILE", file, liveDbSettingsSchema);
}

/** The passwords in the file: the logger and the ledger redact them wherever they would appear. */
export function liveDbSecrets(settings: LiveDbSettings): string[] {
  return Object.values(settings).map((s) => s!.password);
}
