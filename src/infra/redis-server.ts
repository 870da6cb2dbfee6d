import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { describeRedisEndpoint, redisClient, type RedisEndpoint } from "./redis-endpoint";

/** The Redis the service uses: one it started for itself, or one it was pointed at (REDIS_URL, REDIS_SENTINELS). */
export interface ProvidedRedis {
  endpoint: RedisEndpoint;
  /** A single server's URL (the private one, or REDIS_URL); none for a Sentinel group. */
  url?: string;
  /** Stops the server if stackyard started it; leaves an external one alone. */
  stop(): Promise<void>;
}

/** One Redis server stackyard started for itself, or one it was pointed at with REDIS_URL. */
export interface RedisHandle extends ProvidedRedis {
  url: string;
  /** The process of a private server, for tests that kill it. */
  process?: ChildProcess;
}

export class RedisUnavailableError extends Error {
  readonly code = "REDIS_UNAVAILABLE";
  constructor(message: string) {
    super(message);
    this.name = "RedisUnavailableError";
  }
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function redisServerBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  if (!found) {
    throw new RedisUnavailableError(
      "redis-server is not installed: run `bash scripts/setup.sh` as root, or `apt-get install redis-server`, or set REDIS_URL",
    );
  }
  return found;
}

export { redactRedisUrl } from "./redis-endpoint";

/**
 * The private server's password: generated once, kept beside its data (mode 0600) and reused on
 * every restart, so a local process that cannot read the state folder cannot talk to it.
 */
export function privateRedisPassword(dataDir: string): string {
  const file = path.join(dataDir, "redis.password");
  try {
    const kept = fs.readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(kept)) {
      fs.chmodSync(file, 0o600);
      return kept;
    }
  } catch {
    // none yet: make one below
  }
  const pw = randomBytes(32).toString("hex");
  fs.writeFileSync(file, pw + "\n", { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return pw;
}

/**
 * The server's settings as a config file (mode 0600) rather than arguments: a password on the
 * command line would be readable by every local user in /proc/<pid>/cmdline.
 */
function writeConfig(dir: string, port: number, password: string, pidFile: string): string {
  const conf = path.join(dir, "redis.conf");
  const lines = [
    "bind 127.0.0.1",
    `port ${port}`,
    `dir ${JSON.stringify(dir)}`,
    "appendonly yes",
    "appendfsync everysec",
    "maxmemory-policy noeviction",
    'save ""',
    "protected-mode yes",
    "daemonize no",
    `logfile ${JSON.stringify(path.join(dir, "redis.log"))}`,
    `pidfile ${JSON.stringify(pidFile)}`,
    `requirepass ${password}`,
  ];
  fs.writeFileSync(conf, lines.join("\n") + "\n", { mode: 0o600 });
  fs.chmodSync(conf, 0o600);
  return conf;
}

async function waitForPing(endpoint: RedisEndpoint, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    // A Sentinel client keeps its ready check: it is how ioredis refuses a node that is not the primary.
    const client = redisClient(endpoint, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableReadyCheck: endpoint.kind === "sentinel",
    });
    client.on("error", () => undefined); // a refused connection is the expected answer while it boots
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      if (Date.now() > until)
        throw new RedisUnavailableError(
          `redis at ${describeRedisEndpoint(endpoint)} did not answer within ${deadlineMs} ms`,
        );
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

/**
 * Starts a private redis-server on a free loopback port, with its data (AOF on, fsync every
 * second, no eviction: what BullMQ needs to keep accepted jobs) under `dataDir`, behind a password
 * kept there (see privateRedisPassword). The handle's URL carries the password.
 */
export async function startPrivateRedis(dataDir: string, port?: number): Promise<RedisHandle> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const pidFile = path.join(dir, "redis.pid");
  await stopLeftover(pidFile);
  const chosen = port ?? (await freePort());
  const password = privateRedisPassword(dir);
  const child = spawn(redisServerBinary(), [writeConfig(dir, chosen, password, pidFile)], {
    stdio: "ignore",
  });
  const url = `redis://:${password}@127.0.0.1:${chosen}`;
  const endpoint: RedisEndpoint = { kind: "url", url };
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPing(endpoint, 10_000);
  return {
    endpoint,
    url,
    process: child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/**
 * A server left running by a process that died without stopping it (kill -9, a crash at start-up)
 * still owns this data folder; two servers appending to one AOF would corrupt it. Stop it first.
 */
async function stopLeftover(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, "utf8").trim());
  } catch {
    return;
  }
  const isRedis = () => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("redis-server");
    } catch {
      return false;
    }
  };
  if (!Number.isInteger(pid) || pid <= 1 || !isRedis()) return;
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && isRedis(); i++) await new Promise((r) => setTimeout(r, 50));
}

/** The configured Redis (REDIS_URL or a Sentinel group) when there is one; otherwise a private server under the local state folder. */
export function provideRedis(endpoint: undefined, stateDir: string): Promise<RedisHandle>;
export function provideRedis(endpoint: RedisEndpoint | undefined, stateDir: string): Promise<ProvidedRedis>;
export async function provideRedis(
  endpoint: RedisEndpoint | undefined,
  stateDir: string,
): Promise<ProvidedRedis> {
  if (endpoint) {
    await waitForPing(endpoint, 5_000);
    return {
      endpoint,
      ...(endpoint.kind === "url" ? { url: endpoint.url } : {}),
      stop: async () => undefined,
    };
  }
  return startPrivateRedis(path.join(stateDir, "redis"));
}
