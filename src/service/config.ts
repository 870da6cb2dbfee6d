import type { GitRemote } from "../operations/git-remote";
import * as os from "node:os";
import * as path from "node:path";
import { z } from "zod";
import { tokenListSchema, type TokenEntry } from "../auth/tokens";
import { chatConfigFromEnv, chatEnvShape, chatSecrets, type ChatConfig } from "../chatops/chat-config";
import { localStateDir, projectRoot } from "../infra/paths";
import {
  RedisEndpointError,
  redisEndpointFromEnv,
  redisEndpointSecrets,
  redisEnvShape,
  type RedisEndpoint,
} from "../infra/redis-endpoint";
import { SITE_IDS } from "../programs/site-config";
import { SettingsFileError } from "../infra/settings-file";
import { loadDriftOverrides, type DriftOverrides } from "../operations/drift-settings";
import { shortestGap } from "../schedules/schedule-schema";
import { loadGuardOverrides, type GuardOverrides } from "../operations/guards/guard-settings";
import { liveDbSecrets, loadLiveDbSettings, type LiveDbSettings } from "../operations/live-db-settings";
import { loadPolicyOverrides, type PolicyOverrides } from "../policy/policy-settings";
import { BackendUrlError, fileBackend, parseBackendUrl, type StateBackend } from "../engine/state-backend";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const ms = (d: number) => z.coerce.number().int().min(100).default(d);

/** Environment variables the service reads, with defaults that run the sandbox on one machine. */
const envSchema = z.object({
  STACKYARD_MODE: z.enum(["sandbox", "live"]).default("sandbox"),
  STACKYARD_HOST: z.string().default("127.0.0.1"),
  STACKYARD_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Where a worker-only process (`--role=worker`) serves /metrics; unset: a free port, logged as "metrics listening". */
  STACKYARD_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  STACKYARD_STATE_DIR: z.string().optional(),
  /** Folder with Pulumi.yaml + stacks/ (the repo root by default). */
  STACKYARD_WORKSPACE: z.string().optional(),
  /** Sandbox only: bring up once every site never deployed in this sandbox (the embedded default sets it). */
  STACKYARD_SANDBOX_BOOTSTRAP: bool.default(false),
  STACKYARD_SITES: z.string().optional(),
  // Where Redis is: REDIS_URL, or REDIS_SENTINELS + REDIS_SENTINEL_NAME (src/infra/redis-endpoint.ts).
  ...redisEnvShape,
  /** Replicas that must acknowledge an accepted operation (Redis WAIT) before the API answers 202; 0 = do not wait. */
  STACKYARD_REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(16).default(0),
  /** How long that WAIT may block before the API answers 503 instead. */
  STACKYARD_REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  STACKYARD_BACKEND_DIR: z.string().optional(),
  /** Shared state backend: file://<dir>, s3://<bucket>?region=…[&endpoint=…&s3ForcePathStyle=true], or https://api.pulumi.com. */
  PULUMI_BACKEND_URL: z.string().min(1).optional(),
  /** Key pair of an s3:// backend (ambient AWS_* credentials never reach the engine). */
  STACKYARD_BACKEND_ACCESS_KEY_ID: z.string().min(1).optional(),
  STACKYARD_BACKEND_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  STACKYARD_PULUMI_HOME: z.string().optional(),
  STACKYARD_SANDBOX_DIR: z.string().optional(),
  /** Sandbox only: rehearse each site's database and Redis droplets on real servers on loopback (docs/sandbox.md). */
  STACKYARD_SANDBOX_HOSTS: bool.default(false),
  /** Where the rehearsed hosts keep their data (the postgres user must be able to enter it). */
  STACKYARD_SANDBOX_HOSTS_DIR: z.string().optional(),
  /** How often each rehearsed host's deploy unit runs (a real host's timer runs every minute). */
  STACKYARD_SANDBOX_HOST_PERIOD_MS: ms(1_000),
  PULUMI_CONFIG_PASSPHRASE: z.string().min(1).optional(),
  STACKYARD_TOKENS: z.string().default("[]"),
  STACKYARD_GIT_COMMIT: bool.default(true),
  STACKYARD_GIT_AUTHOR: z.string().default("stackyard <stackyard@localhost>"),
  /** A git URL holding the stack files every machine shares (docs/operations.md, "Several machines"). */
  STACKYARD_GIT_REMOTE: z.string().min(1).optional(),
  STACKYARD_GIT_BRANCH: z
    .string()
    .regex(/^[A-Za-z0-9._/-]+$/, "a branch name")
    .default("main"),
  STACKYARD_LOCK_DURATION_MS: ms(30_000),
  STACKYARD_STALLED_INTERVAL_MS: ms(15_000),
  STACKYARD_MAX_STALLED_COUNT: z.coerce.number().int().min(0).max(20).default(3),
  STACKYARD_STACK_LOCK_TTL_MS: ms(20_000),
  STACKYARD_SHUTDOWN_GRACE_MS: ms(600_000),
  STACKYARD_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1_048_576).default(16_384),
  STACKYARD_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /** Requests one token may send per window, counted in Redis across every API process. */
  STACKYARD_RATE_LIMIT_REQUESTS: z.coerce.number().int().min(1).max(1_000_000).default(600),
  STACKYARD_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Event streams (SSE) one token may hold open at once in an API process. */
  STACKYARD_SSE_STREAMS_PER_TOKEN: z.coerce.number().int().min(1).max(1_000).default(10),
  /** Finished operations' records and events are kept this long, then expire (Redis runs noeviction). */
  STACKYARD_RETENTION_DAYS: z.coerce.number().min(0.001).max(3650).default(90),
  // Chatops (docs/chatops.md): signing secrets, the chat user map, reply hosts.
  ...chatEnvShape,
  /** Cron schedules may not fire more often than this (a typo must not mean an engine run every second). */
  STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Schedules one site may hold (each is a recurring engine run; the listing is paged). */
  STACKYARD_SCHEDULES_PER_SITE: z.coerce.number().int().min(1).max(1000).default(50),
  STACKYARD_DASHBOARD_SESSION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(8 * 3600),
  /** Per-site guard settings over the built-in defaults (docs/policy.md). */
  STACKYARD_GUARDS_FILE: z.string().optional(),
  /** Per-site drift detection: schedule, remediation, chat webhook (docs/operations.md, "Drift"). */
  STACKYARD_DRIFT_FILE: z.string().optional(),
  /** How long a risky operation waits for approval before it expires. */
  STACKYARD_APPROVAL_TTL_MS: z.coerce.number().int().min(1000).default(3600_000),
  /** Run the repo's policy pack on every preview and up (turn off only to measure its cost). */
  STACKYARD_POLICY_PACK: bool.default(true),
  /** Per-site size allow-lists and resource ceilings for the policy pack (docs/policy.md). */
  STACKYARD_POLICY_FILE: z.string().optional(),
  /** How long the hosts may take to reach a database topology an operation applied (the verify phase). */
  STACKYARD_VERIFY_TIMEOUT_MS: ms(300_000),
  /** How often the verify phase observes the hosts. */
  STACKYARD_VERIFY_INTERVAL_MS: ms(2_000),
  /** Live mode: how the workers reach each site's PostgreSQL nodes for the failover gates (a secret file; docs/policy.md). */
  STACKYARD_LIVE_DB_FILE: z.string().optional(),
});

export interface ServiceConfig {
  mode: "sandbox" | "live";
  host: string;
  port: number;
  /** A worker-only process's /metrics port (0: a free one). */
  metricsPort: number;
  stateDir: string;
  workspaceDir: string;
  /** Set when the workspace is the sandbox's own copy, made from the checkout on first start. */
  workspaceSeedFrom?: string;
  sandboxBootstrap: boolean;
  sites: string[];
  /** REDIS_URL or a Sentinel group; none = a private server under the state folder. */
  redis?: RedisEndpoint;
  /** Replicas an accepted operation must reach before 202 (STACKYARD_REDIS_WAIT_REPLICAS), and how long to wait. */
  redisWait: { replicas: number; timeoutMs: number };
  backendDir: string;
  /** Where the engine keeps state: PULUMI_BACKEND_URL, or file://<backendDir> by default. */
  backend: StateBackend;
  pulumiHome: string;
  sandboxDir: string;
  /** Sandbox host rehearsal (STACKYARD_SANDBOX_HOSTS): where the hosts live and how often they converge. */
  sandboxHosts?: { dir: string; periodMs: number };
  passphrase: string;
  tokens: TokenEntry[];
  git: {
    enabled: boolean;
    author: { name: string; email: string };
    /** STACKYARD_GIT_REMOTE: the branch every machine plans on; pulled before planning, pushed after an apply. */
    remote?: GitRemote;
  };
  stall: { lockDurationMs: number; stalledIntervalMs: number; maxStalledCount: number };
  stackLockTtlMs: number;
  shutdownGraceMs: number;
  bodyLimitBytes: number;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Per-token request budget and concurrent event streams. */
  limits: { rate: { requests: number; windowSeconds: number }; streamsPerToken: number };
  /** How long a finished operation's record, events and index entry are kept. */
  retentionSeconds: number;
  chat: ChatConfig;
  schedules: { minIntervalSeconds: number; maxPerSite: number };
  /** Cookies are Secure in live mode (behind https); the sandbox serves http on loopback. */
  dashboard: { sessionTtlSeconds: number; secureCookie: boolean };
  /** Guard and policy-pack overrides per site (validated at start-up), approval window, policy pack switch. */
  policy: {
    guardOverrides: GuardOverrides;
    packOverrides: PolicyOverrides;
    approvalTtlMs: number;
    policyPack: boolean;
  };
  /** The verify phase after `up` (src/operations/host-convergence.ts). */
  hostVerify: { timeoutMs: number; intervalMs: number };
  /** Per-site drift settings (STACKYARD_DRIFT_FILE); a site absent from it gets the defaults (daily, report only). */
  drift: DriftOverrides;
  /** Live mode's database monitoring settings per site (empty in the sandbox, which reads its simulated databases). */
  liveDb: LiveDbSettings;
}

/** Every secret the configuration holds: the logger and the ledger redact each wherever it would appear. */
export function serviceSecrets(cfg: ServiceConfig): string[] {
  return [
    cfg.passphrase,
    ...chatSecrets(cfg.chat),
    // A chat webhook URL is a bearer capability.
    ...Object.values(cfg.drift).flatMap((d) => (d?.chatUrl ? [d.chatUrl] : [])),
    ...liveDbSecrets(cfg.liveDb),
    ...urlSecrets(cfg.git.remote?.url),
    ...redisEndpointSecrets(cfg.redis),
    ...(cfg.backend.kind === "s3" ? [cfg.backend.credentials.secretAccessKey] : []),
  ];
}

/** The password (or token) in a URL's userinfo, e.g. https://user:<token>@host/stacks.git. */
function urlSecrets(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const u = new URL(url);
    return u.password ? [u.password, decodeURIComponent(u.password)] : [];
  } catch {
    return []; // scp-like (git@host:path): no secret in it
  }
}

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
}

/** Parsed once at start-up; a bad value stops the process with the variable named. */
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const r = envSchema.safeParse(env);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ConfigError(`${String(i.path[0])}: ${i.message}`);
  }
  const e = r.data;
  const stateDir = path.resolve(e.STACKYARD_STATE_DIR ?? localStateDir());
  let tokens: TokenEntry[];
  try {
    const parsed = tokenListSchema.safeParse(JSON.parse(e.STACKYARD_TOKENS));
    if (!parsed.success)
      throw new ConfigError(
        `STACKYARD_TOKENS[${parsed.error.issues[0]!.path.join(".")}]: ${parsed.error.issues[0]!.message}`,
      );
    tokens = parsed.data;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      "STACKYARD_TOKENS: not valid JSON (a list of {id, sha256, sites, operations, scopes})",
    );
  }
  if (e.STACKYARD_MODE === "live" && !e.PULUMI_CONFIG_PASSPHRASE)
    throw new ConfigError("PULUMI_CONFIG_PASSPHRASE: required in live mode");
  const sites = e.STACKYARD_SITES ? e.STACKYARD_SITES.split(",").map((s) => s.trim()) : [...SITE_IDS];
  const unknown = sites.filter((s) => !(SITE_IDS as readonly string[]).includes(s));
  if (unknown.length > 0) throw new ConfigError(`STACKYARD_SITES: unknown site(s) ${unknown.join(", ")}`);
  const author = /^(.*?)\s*<([^>]+)>$/.exec(e.STACKYARD_GIT_AUTHOR);
  let chat: ChatConfig;
  try {
    chat = chatConfigFromEnv(e, e.STACKYARD_MODE);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (e.STACKYARD_GIT_REMOTE && !e.STACKYARD_GIT_COMMIT)
    throw new ConfigError("STACKYARD_GIT_REMOTE: needs STACKYARD_GIT_COMMIT (pushing is committing, shared)");
  if (e.STACKYARD_SANDBOX_HOSTS && e.STACKYARD_MODE !== "sandbox")
    throw new ConfigError("STACKYARD_SANDBOX_HOSTS: only in sandbox mode (live hosts are the real ones)");
  if (e.STACKYARD_LIVE_DB_FILE && e.STACKYARD_MODE !== "live")
    throw new ConfigError(
      "STACKYARD_LIVE_DB_FILE: only read in live mode (the sandbox observes its simulated databases)",
    );
  let redis: RedisEndpoint | undefined;
  try {
    redis = redisEndpointFromEnv(e);
  } catch (err) {
    if (err instanceof RedisEndpointError) throw new ConfigError(err.message);
    throw err;
  }
  const backendDir = path.resolve(e.STACKYARD_BACKEND_DIR ?? path.join(stateDir, "backend"));
  const backend = backendFromEnv(e, backendDir);
  let guardOverrides: GuardOverrides;
  let packOverrides: PolicyOverrides;
  let liveDb: LiveDbSettings;
  let drift: DriftOverrides;
  try {
    drift = loadDriftOverrides(e.STACKYARD_DRIFT_FILE);
    checkDriftSchedules(drift, e.STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS);
    guardOverrides = loadGuardOverrides(e.STACKYARD_GUARDS_FILE);
    packOverrides = loadPolicyOverrides(e.STACKYARD_POLICY_FILE);
    liveDb = loadLiveDbSettings(e.STACKYARD_LIVE_DB_FILE);
  } catch (err) {
    if (err instanceof SettingsFileError) throw new ConfigError(err.message);
    throw err;
  }
  return {
    mode: e.STACKYARD_MODE,
    host: e.STACKYARD_HOST,
    port: e.STACKYARD_PORT,
    metricsPort: e.STACKYARD_METRICS_PORT ?? 0,
    stateDir,
    // A sandbox rehearses on its own copy of the stack files; live mode works on the checkout.
    workspaceDir: path.resolve(
      e.STACKYARD_WORKSPACE ??
        (e.STACKYARD_MODE === "sandbox" ? path.join(stateDir, "sandbox-workspace") : projectRoot),
    ),
    workspaceSeedFrom: !e.STACKYARD_WORKSPACE && e.STACKYARD_MODE === "sandbox" ? projectRoot : undefined,
    sandboxBootstrap: e.STACKYARD_MODE === "sandbox" && e.STACKYARD_SANDBOX_BOOTSTRAP,
    sites,
    redis,
    redisWait: { replicas: e.STACKYARD_REDIS_WAIT_REPLICAS, timeoutMs: e.STACKYARD_REDIS_WAIT_TIMEOUT_MS },
    backendDir,
    backend,
    // Sandbox plugins live in a home of their own; live runs use the operator's Pulumi home.
    pulumiHome: path.resolve(
      e.STACKYARD_PULUMI_HOME ??
        (e.STACKYARD_MODE === "sandbox"
          ? path.join(stateDir, "sandbox-home")
          : (env.PULUMI_HOME ?? path.join(os.homedir(), ".pulumi"))),
    ),
    sandboxDir: path.resolve(e.STACKYARD_SANDBOX_DIR ?? path.join(stateDir, "sandbox-cloud")),
    ...(e.STACKYARD_SANDBOX_HOSTS
      ? {
          sandboxHosts: {
            dir: path.resolve(e.STACKYARD_SANDBOX_HOSTS_DIR ?? path.join(stateDir, "sandbox-hosts")),
            periodMs: e.STACKYARD_SANDBOX_HOST_PERIOD_MS,
          },
        }
      : {}),
    // The sandbox passphrase protects only simulated secrets; live mode must bring its own.
    passphrase: e.PULUMI_CONFIG_PASSPHRASE ?? "stackyard-sandbox-passphrase",
    tokens,
    git: {
      enabled: e.STACKYARD_GIT_COMMIT,
      author: { name: author?.[1] ?? "stackyard", email: author?.[2] ?? "stackyard@localhost" },
      ...(e.STACKYARD_GIT_REMOTE
        ? { remote: { url: e.STACKYARD_GIT_REMOTE, branch: e.STACKYARD_GIT_BRANCH } }
        : {}),
    },
    stall: {
      lockDurationMs: e.STACKYARD_LOCK_DURATION_MS,
      stalledIntervalMs: e.STACKYARD_STALLED_INTERVAL_MS,
      maxStalledCount: e.STACKYARD_MAX_STALLED_COUNT,
    },
    stackLockTtlMs: e.STACKYARD_STACK_LOCK_TTL_MS,
    shutdownGraceMs: e.STACKYARD_SHUTDOWN_GRACE_MS,
    bodyLimitBytes: e.STACKYARD_BODY_LIMIT_BYTES,
    logLevel: e.STACKYARD_LOG_LEVEL,
    limits: {
      rate: {
        requests: e.STACKYARD_RATE_LIMIT_REQUESTS,
        windowSeconds: e.STACKYARD_RATE_LIMIT_WINDOW_SECONDS,
      },
      streamsPerToken: e.STACKYARD_SSE_STREAMS_PER_TOKEN,
    },
    retentionSeconds: Math.round(e.STACKYARD_RETENTION_DAYS * 86_400),
    chat,
    schedules: {
      minIntervalSeconds: e.STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS,
      maxPerSite: e.STACKYARD_SCHEDULES_PER_SITE,
    },
    dashboard: {
      sessionTtlSeconds: e.STACKYARD_DASHBOARD_SESSION_TTL_SECONDS,
      secureCookie: e.STACKYARD_MODE === "live",
    },
    policy: {
      guardOverrides,
      packOverrides,
      approvalTtlMs: e.STACKYARD_APPROVAL_TTL_MS,
      policyPack: e.STACKYARD_POLICY_PACK,
    },
    hostVerify: { timeoutMs: e.STACKYARD_VERIFY_TIMEOUT_MS, intervalMs: e.STACKYARD_VERIFY_INTERVAL_MS },
    liveDb,
    drift,
  };
}

/** Each drift cron must parse and respect the schedules' minimum interval, like any schedule. */
function checkDriftSchedules(drift: DriftOverrides, minIntervalSeconds: number): void {
  for (const [site, s] of Object.entries(drift)) {
    if (!s?.enabled) continue;
    let gap: ReturnType<typeof shortestGap>;
    try {
      gap = shortestGap(s.cron, s.timezone, minIntervalSeconds);
    } catch (err) {
      throw new SettingsFileError(
        `STACKYARD_DRIFT_FILE: ${site}.cron: not a cron expression: ${(err as Error).message}`,
      );
    }
    if (gap && gap.seconds < minIntervalSeconds)
      throw new SettingsFileError(
        `STACKYARD_DRIFT_FILE: ${site}.cron: fires more often than every ${minIntervalSeconds} s (STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS)`,
      );
  }
}

/** PULUMI_BACKEND_URL and the backend's key pair, checked together; file://<backendDir> without them. */
function backendFromEnv(e: z.output<typeof envSchema>, backendDir: string): StateBackend {
  const id = e.STACKYARD_BACKEND_ACCESS_KEY_ID;
  const secret = e.STACKYARD_BACKEND_SECRET_ACCESS_KEY;
  if (!id !== !secret)
    throw new ConfigError(
      `${id ? "STACKYARD_BACKEND_SECRET_ACCESS_KEY" : "STACKYARD_BACKEND_ACCESS_KEY_ID"}: set both halves of the backend key pair or neither`,
    );
  if (!e.PULUMI_BACKEND_URL) {
    if (id) throw new ConfigError("STACKYARD_BACKEND_ACCESS_KEY_ID: only for an s3:// PULUMI_BACKEND_URL");
    return fileBackend(backendDir);
  }
  let backend: StateBackend;
  try {
    backend = parseBackendUrl(
      e.PULUMI_BACKEND_URL,
      id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined,
    );
  } catch (err) {
    if (err instanceof BackendUrlError) throw new ConfigError(`PULUMI_BACKEND_URL: ${err.message}`);
    throw err;
  }
  if (id && backend.kind !== "s3")
    throw new ConfigError("STACKYARD_BACKEND_ACCESS_KEY_ID: only for an s3:// PULUMI_BACKEND_URL");
  return backend;
}
