import IORedis, { type RedisOptions } from "ioredis";
import { z } from "zod";

/**
 * Where the service's Redis is: one server named by a URL, or a Sentinel group that names the
 * current primary (ioredis asks the sentinels, and asks again after a failover).
 */
export type RedisEndpoint =
  | { kind: "url"; url: string }
  | {
      kind: "sentinel";
      sentinels: Array<{ host: string; port: number }>;
      /** The master group name the sentinels monitor (`sentinel monitor <name> ...`). */
      name: string;
      /** The data servers' password (primary and replicas share one). */
      password?: string;
      /** The sentinels' own password (`requirepass` in sentinel.conf), when they have one. */
      sentinelPassword?: string;
    };

/** A Redis setting that cannot be used; the message starts with the variable(s) it names. */
export class RedisEndpointError extends Error {
  readonly code = "CONFIG_INVALID";
}

const hostPort = z.string().transform((raw, ctx) => {
  const s = raw.trim();
  const at = s.lastIndexOf(":");
  const host = at > 0 ? s.slice(0, at).replace(/^\[(.*)\]$/, "$1") : "";
  const port = Number(s.slice(at + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    ctx.addIssue({ code: "custom", message: `"${s}" is not host:port` });
    return z.NEVER;
  }
  return { host, port };
});

/** The environment variables that say where Redis is (spread into the service's env schema). */
export const redisEnvShape = {
  /** One Redis server: `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  REDIS_URL: z.string().url().optional(),
  /** Comma list of `host:port` of the Sentinels watching the primary (instead of REDIS_URL). */
  REDIS_SENTINELS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const parsed = z.array(hostPort).safeParse(v.split(","));
      if (!parsed.success) {
        ctx.addIssue({ code: "custom", message: parsed.error.issues[0]!.message });
        return z.NEVER;
      }
      return parsed.data;
    }),
  /** The master group name the sentinels monitor. */
  REDIS_SENTINEL_NAME: z.string().min(1).optional(),
  /** The sentinels' own password, when they require one. */
  REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
  /** The data servers' password, for Sentinel (or for a REDIS_URL that carries none). */
  REDIS_PASSWORD: z.string().min(1).optional(),
};

type RedisEnv = z.infer<z.ZodObject<typeof redisEnvShape>>;

/**
 * The endpoint the parsed environment names, or undefined for the embedded default (a private
 * server). Combinations that cannot both hold are refused with both variables named.
 */
export function redisEndpointFromEnv(e: RedisEnv): RedisEndpoint | undefined {
  if (e.REDIS_URL && e.REDIS_SENTINELS)
    throw new RedisEndpointError(
      "REDIS_URL, REDIS_SENTINELS: set one of them (a URL names one server; the sentinels name the current primary)",
    );
  if (!e.REDIS_SENTINELS) {
    for (const v of ["REDIS_SENTINEL_NAME", "REDIS_SENTINEL_PASSWORD"] as const)
      if (e[v]) throw new RedisEndpointError(`${v}: only used with REDIS_SENTINELS`);
  }
  if (e.REDIS_SENTINELS) {
    if (!e.REDIS_SENTINEL_NAME)
      throw new RedisEndpointError(
        "REDIS_SENTINEL_NAME: required with REDIS_SENTINELS (the master group name)",
      );
    return {
      kind: "sentinel",
      sentinels: e.REDIS_SENTINELS,
      name: e.REDIS_SENTINEL_NAME,
      ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
      ...(e.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: e.REDIS_SENTINEL_PASSWORD } : {}),
    };
  }
  if (e.REDIS_URL) {
    if (!e.REDIS_PASSWORD) return { kind: "url", url: e.REDIS_URL };
    const u = new URL(e.REDIS_URL);
    if (u.password)
      throw new RedisEndpointError(
        "REDIS_URL, REDIS_PASSWORD: the URL carries a password already; set one of them",
      );
    u.password = encodeURIComponent(e.REDIS_PASSWORD);
    return { kind: "url", url: u.toString() };
  }
  if (e.REDIS_PASSWORD)
    throw new RedisEndpointError(
      "REDIS_PASSWORD: only used with REDIS_URL or REDIS_SENTINELS (the private server makes its own)",
    );
  return undefined;
}

/**
 * ioredis options for a Sentinel group. A primary that was demoted (a planned failover) answers
 * writes with READONLY while its connections stay open: reconnecting asks the sentinels again.
 */
function sentinelOptions(
  ep: Extract<RedisEndpoint, { kind: "sentinel" }>,
): Pick<RedisOptions, "sentinels" | "name" | "role" | "password" | "sentinelPassword" | "reconnectOnError"> {
  return {
    sentinels: ep.sentinels,
    name: ep.name,
    role: "master",
    ...(ep.password ? { password: ep.password } : {}),
    ...(ep.sentinelPassword ? { sentinelPassword: ep.sentinelPassword } : {}),
    reconnectOnError: (err) => (/READONLY/.test(err.message) ? 2 : false),
  };
}

/** A client of the endpoint with the caller's own options (offline queue, retries, lazy connect). */
export function redisClient(ep: RedisEndpoint, extra: RedisOptions = {}): IORedis {
  return ep.kind === "url" ? new IORedis(ep.url, extra) : new IORedis({ ...sentinelOptions(ep), ...extra });
}

/**
 * What BullMQ's `connection` takes for the endpoint (its ConnectionOptions; typed here as ioredis
 * options because infra/ does not import the queue library): each Queue, Worker and QueueEvents
 * makes its own clients from it.
 */
export type BullConnection =
  | { url: string }
  | Pick<RedisOptions, "sentinels" | "name" | "role" | "password" | "sentinelPassword" | "reconnectOnError">;

/** BullMQ connection options for the endpoint. */
export function bullConnection(ep: RedisEndpoint): BullConnection {
  return ep.kind === "url" ? { url: ep.url } : sentinelOptions(ep);
}

/** A Redis URL as it may appear in a message: the password replaced. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, "$1[redacted]@");
}

/** The endpoint as a message may show it: no password. */
export function describeRedisEndpoint(ep: RedisEndpoint): string {
  if (ep.kind === "sentinel")
    return `sentinel group "${ep.name}" via ${ep.sentinels.map((s) => `${s.host}:${s.port}`).join(",")}`;
  return redactRedisUrl(ep.url);
}

/** The passwords the endpoint holds, for the logger's redaction. */
export function redisEndpointSecrets(ep: RedisEndpoint | undefined): string[] {
  if (!ep) return [];
  if (ep.kind === "sentinel") return [ep.password, ep.sentinelPassword].filter((p): p is string => !!p);
  const pw = new URL(ep.url).password;
  return pw ? [pw, decodeURIComponent(pw)] : [];
}
