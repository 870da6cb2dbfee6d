import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import IORedis from "ioredis";

/** A Redis server stackyard started for itself, or one it was pointed at with REDIS_URL. */
export interface RedisHandle {
  url: string;
  /** Stops the server if stackyard started it; leaves an external one alone. */
  stop(): Promise<void>;
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

async function waitForPing(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const client = new IORedis(url, { lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false });
    client.on("error", () => undefined); // a refused connection is the expected answer while it boots
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return;
    } catch {
      if (Date.now() > until) throw new RedisUnavailableError(`redis at ${url} did not answer within ${deadlineMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      client.disconnect();
    }
  }
}

/**
 * Starts a private redis-server on a free loopback port, with its data (AOF on, fsync every
 * second, no eviction: what BullMQ needs to keep accepted jobs) under `dataDir`.
 */
export async function startPrivateRedis(dataDir: string, port?: number): Promise<RedisHandle> {
  fs.mkdirSync(dataDir, { recursive: true });
  const pidFile = path.join(path.resolve(dataDir), "redis.pid");
  await stopLeftover(pidFile);
  const chosen = port ?? (await freePort());
  const child = spawn(
    redisServerBinary(),
    [
      "--bind", "127.0.0.1",
      "--port", String(chosen),
      "--dir", path.resolve(dataDir),
      "--appendonly", "yes",
      "--appendfsync", "everysec",
      "--maxmemory-policy", "noeviction",
      "--save", "",
      "--protected-mode", "yes",
      "--daemonize", "no",
      "--logfile", path.join(path.resolve(dataDir), "redis.log"),
      "--pidfile", pidFile,
    ],
    { stdio: "ignore" },
  );
  const url = `redis://127.0.0.1:${chosen}`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPing(url, 10_000);
  return {
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

/** REDIS_URL when set; otherwise a private server under the local state folder. */
export async function provideRedis(env: NodeJS.ProcessEnv, stateDir: string): Promise<RedisHandle> {
  if (env.REDIS_URL) {
    await waitForPing(env.REDIS_URL, 5_000);
    return { url: env.REDIS_URL, stop: async () => undefined };
  }
  return startPrivateRedis(path.join(stateDir, "redis"));
}
