import * as fs from "node:fs";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { z } from "zod";
import { StackFileStore } from "../operations/stack-file-store";
import type { Logger } from "../infra/observability/logger";
import { loadServiceConfig, type ServiceConfig } from "./config";
import { engineSettingsFor } from "./engine-settings";
import { buildTwin, twinLayout } from "./rehearsal-twin";
import { commitWorkspace } from "./sandbox-workspace";

/** `--twin-of=<site>` and `--twin-dir=<folder>` (docs/operations.md, "Rehearsal": "Exploring a twin"). */
export interface TwinFlags {
  site: string;
  dir?: string;
}

/** A `--twin-*` flag with a bad value: the process exits 2 with this message, which names the flag. */
export class TwinFlagError extends Error {
  readonly code = "TWIN_FLAG_INVALID";
}

const flagValue = (argv: readonly string[], name: string): string | undefined =>
  argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

const siteValue = z.string().regex(/^[a-z0-9-]+$/, "a site id");

/** The twin flags of a command line; undefined when `--twin-of` is absent. */
export function parseTwinFlags(argv: readonly string[]): TwinFlags | undefined {
  const site = flagValue(argv, "--twin-of");
  const dir = flagValue(argv, "--twin-dir");
  if (site === undefined) {
    if (dir !== undefined) throw new TwinFlagError("--twin-dir: only with --twin-of=<site>");
    return undefined;
  }
  const parsed = siteValue.safeParse(site);
  if (!parsed.success) throw new TwinFlagError(`--twin-of=${site}: not a site id`);
  if (dir === "") throw new TwinFlagError("--twin-dir: empty");
  return { site: parsed.data, ...(dir ? { dir: path.resolve(dir) } : {}) };
}

/** What a kept twin's folder says of itself, so a later start explores it again instead of rebuilding. */
const markerSchema = z.object({ site: z.string(), createdAt: z.string(), seeded: z.number() });
const MARKER = "twin.json";

/**
 * The service's own settings that carry over to a twin's sandbox service: how it listens, who may
 * call it, its checks and timings. Nothing that reaches the live site does (its backend, Redis,
 * git remote, PULUMI_HOME, database monitoring, chat secrets and webhooks, drift settings).
 */
const KEPT_ENV = [
  "STACKYARD_HOST",
  "STACKYARD_PORT",
  "STACKYARD_TOKENS",
  "STACKYARD_LOG_LEVEL",
  "STACKYARD_GIT_COMMIT",
  "STACKYARD_GIT_AUTHOR",
  "STACKYARD_GUARDS_FILE",
  "STACKYARD_POLICY_FILE",
  "STACKYARD_POLICY_PACK",
  "STACKYARD_APPROVAL_TTL_MS",
  "STACKYARD_VERIFY_TIMEOUT_MS",
  "STACKYARD_VERIFY_INTERVAL_MS",
  "STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS",
  "STACKYARD_SCHEDULES_PER_SITE",
  "STACKYARD_RETENTION_DAYS",
  "STACKYARD_BODY_LIMIT_BYTES",
  "STACKYARD_RATE_LIMIT_REQUESTS",
  "STACKYARD_RATE_LIMIT_WINDOW_SECONDS",
  "STACKYARD_SSE_STREAMS_PER_TOKEN",
  "STACKYARD_DASHBOARD_SESSION_TTL_SECONDS",
  "STACKYARD_LOCK_DURATION_MS",
  "STACKYARD_STALLED_INTERVAL_MS",
  "STACKYARD_MAX_STALLED_COUNT",
  "STACKYARD_STACK_LOCK_TTL_MS",
  "STACKYARD_SHUTDOWN_GRACE_MS",
];

/**
 * A new person's own copy of a live site (`npm start -- --twin-of=theatl`): a twin built as a
 * rehearsal builds one (read-only on the live state, `credentials:*` dropped, simulated plugins
 * only) into a folder that is kept, `<live state folder>/twins/<site>-<time>` or `--twin-dir`;
 * a `--twin-dir` that already holds a twin of that site is explored again as it was left. Returns
 * the configuration of a sandbox service on that twin alone: its backend, stack file, simulated
 * cloud and PULUMI_HOME, a private Redis and state folder inside the twin.
 */
export async function exploreTwin(
  live: ServiceConfig,
  flags: TwinFlags,
  program: () => PulumiFn,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ cfg: ServiceConfig; dir: string; built: boolean }> {
  const stackFiles = new StackFileStore(live.workspaceDir);
  if (!live.sites.includes(flags.site) || !stackFiles.exists(flags.site))
    throw new TwinFlagError(
      `--twin-of=${flags.site}: unknown site; this service has ${live.sites.filter((s) => stackFiles.exists(s)).join(", ") || "none"}`,
    );
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const dir = flags.dir ?? path.join(live.stateDir, "twins", `${flags.site}-${stamp}`);
  const built = !existingTwin(dir, flags.site);
  if (built) {
    const twin = await buildTwin(
      { engine: engineSettingsFor(live), projectName: "stackyard", program, stackFiles },
      dir,
      flags.site,
    );
    // Its own git repository, so the twin's operations are committed there.
    commitWorkspace(
      twin.stackFiles.workspaceDir,
      `twin of ${flags.site}: its stack file as live (credentials dropped)`,
    );
    fs.writeFileSync(
      path.join(dir, MARKER),
      JSON.stringify({ site: flags.site, createdAt: new Date().toISOString(), seeded: twin.seeded }),
    );
    logger.info("twin built from the live state", { stack: flags.site, dir, resources: twin.seeded });
  } else logger.info("exploring a kept twin again", { stack: flags.site, dir });
  const layout = twinLayout(dir);
  const kept = Object.fromEntries(KEPT_ENV.filter((k) => env[k] !== undefined).map((k) => [k, env[k]]));
  const cfg = loadServiceConfig({
    ...kept,
    STACKYARD_MODE: "sandbox",
    STACKYARD_SITES: flags.site,
    STACKYARD_STATE_DIR: path.join(dir, "service"),
    STACKYARD_WORKSPACE: layout.workspace,
    STACKYARD_BACKEND_DIR: layout.backend,
    STACKYARD_PULUMI_HOME: layout.pulumiHome,
    STACKYARD_SANDBOX_DIR: layout.cloudRoot,
    // Finds the imported stack deployed and records it as the site's deployment for the overview.
    STACKYARD_SANDBOX_BOOTSTRAP: "true",
    // The twin's stack file carries the live stack's salt: the same passphrase reads its secrets.
    PULUMI_CONFIG_PASSPHRASE: live.passphrase,
  });
  return { cfg, dir, built };
}

/** True when `dir` holds a twin of `site`; a folder that holds anything else is refused. */
function existingTwin(dir: string, site: string): boolean {
  if (!fs.existsSync(dir) || fs.readdirSync(dir).length === 0) return false;
  let marker: z.infer<typeof markerSchema> | undefined;
  try {
    marker = markerSchema.parse(JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")));
  } catch {
    throw new TwinFlagError(`--twin-dir=${dir}: not empty and not a twin (no ${MARKER})`);
  }
  if (marker.site !== site)
    throw new TwinFlagError(`--twin-dir=${dir}: holds a twin of ${marker.site}, not of ${site}`);
  return true;
}
