import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import IORedis from "ioredis";
import { freePort, redisServerBinary } from "../../src/infra/redis-server";
import { tempDir } from "./temp-dir";

/** One redis-server or redis-sentinel process of the group, with its config file kept for a restart. */
export interface GroupProcess {
  port: number;
  readonly process: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill9(): Promise<void>;
  /** Starts it again from the same config file and data folder. */
  restart(): Promise<void>;
}

/** A Redis primary, a replica and three Sentinels on loopback, all behind passwords. */
export interface SentinelGroup {
  name: string;
  password: string;
  sentinelPassword: string;
  primary: GroupProcess;
  replica: GroupProcess;
  sentinels: GroupProcess[];
  /** What the service needs to follow the group (REDIS_SENTINELS, …). */
  env: Record<string, string>;
  /** A client of one data node, straight to its port (not through the sentinels). */
  node(port: number): IORedis;
  /** The port the sentinels name as the primary now (asked of the first that answers). */
  masterPort(): Promise<number | undefined>;
  /** Until every sentinel knows the other two and the replica, and the replica is in sync. */
  settled(deadlineMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function sentinelBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-sentinel"], { encoding: "utf8" }).stdout.trim();
  if (!found)
    throw new Error("redis-sentinel is not installed: run scripts/setup.sh (apt-get install redis-sentinel)");
  return found;
}

/** Config files, not arguments: passwords on a command line are readable by every local user. */
function writeConf(file: string, lines: string[]): void {
  fs.writeFileSync(file, lines.join("\n") + "\n", { mode: 0o600 });
}

async function untilTrue(what: string, check: () => Promise<boolean>, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the process and resolves once it answers PING with its password. */
async function launch(bin: string, conf: string, port: number, password: string): Promise<GroupProcess> {
  let child: ChildProcess;
  const start = async () => {
    child = spawn(bin, [conf], { stdio: "ignore" });
    await untilTrue(
      `${path.basename(conf)} answers`,
      async () => {
        const c = new IORedis({
          port,
          host: "127.0.0.1",
          password,
          lazyConnect: true,
          maxRetriesPerRequest: 0,
        });
        c.on("error", () => undefined);
        try {
          await c.connect();
          return (await c.ping()) === "PONG";
        } finally {
          c.disconnect();
        }
      },
      15_000,
    );
  };
  const handle: GroupProcess = {
    port,
    get process() {
      return child;
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await gone;
    },
    restart: start,
  };
  await start();
  return handle;
}

/**
 * Starts the group in a temp folder. `replicaUpstream` lets a test put something between the
 * replica and the primary (a link it can partition): it gets the primary's port and returns the
 * port the replica should replicate from.
 */
export async function startSentinelGroup(
  opts: { replicaUpstream?: (primaryPort: number) => Promise<number>; failoverTimeoutMs?: number } = {},
): Promise<SentinelGroup> {
  const tmp = tempDir("sentinel");
  const started: GroupProcess[] = [];
  const name = "stackyard";
  const password = randomBytes(24).toString("hex");
  const sentinelPassword = randomBytes(24).toString("hex");
  try {
    const [pPort, rPort, ...sPorts] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    const dataConf = (role: string, port: number, extra: string[]) => {
      const dir = path.join(tmp.dir, role);
      fs.mkdirSync(dir, { mode: 0o700 });
      const conf = path.join(dir, "redis.conf");
      writeConf(conf, [
        "bind 127.0.0.1",
        `port ${port}`,
        `dir ${JSON.stringify(dir)}`,
        "appendonly yes",
        "appendfsync everysec",
        "maxmemory-policy noeviction",
        'save ""',
        `logfile ${JSON.stringify(path.join(dir, "redis.log"))}`,
        `requirepass ${password}`,
        // Either node may be the replica after a failover.
        `masterauth ${password}`,
        "repl-diskless-sync-delay 0",
        ...extra,
      ]);
      return conf;
    };
    const primary = await launch(redisServerBinary(), dataConf("primary", pPort!, []), pPort!, password);
    started.push(primary);
    const upstream = opts.replicaUpstream ? await opts.replicaUpstream(pPort!) : pPort!;
    const replica = await launch(
      redisServerBinary(),
      dataConf("replica", rPort!, [`replicaof 127.0.0.1 ${upstream}`]),
      rPort!,
      password,
    );
    started.push(replica);
    const sentinels: GroupProcess[] = [];
    for (const [i, port] of sPorts.entries()) {
      const dir = path.join(tmp.dir, `sentinel-${i}`);
      fs.mkdirSync(dir, { mode: 0o700 });
      const conf = path.join(dir, "sentinel.conf");
      writeConf(conf, [
        "bind 127.0.0.1",
        `port ${port}`,
        `dir ${JSON.stringify(dir)}`,
        `logfile ${JSON.stringify(path.join(dir, "sentinel.log"))}`,
        `requirepass ${sentinelPassword}`,
        `sentinel sentinel-pass ${sentinelPassword}`,
        `sentinel monitor ${name} 127.0.0.1 ${pPort} 2`,
        `sentinel auth-pass ${name} ${password}`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 10_000}`,
        `sentinel parallel-syncs ${name} 1`,
      ]);
      const s = await launch(sentinelBinary(), conf, port, sentinelPassword);
      started.push(s);
      sentinels.push(s);
    }
    const sentinelClient = (port: number) => {
      const c = new IORedis({ port, host: "127.0.0.1", password: sentinelPassword, maxRetriesPerRequest: 0 });
      c.on("error", () => undefined);
      return c;
    };
    const node = (port: number) => {
      const c = new IORedis({ port, host: "127.0.0.1", password, maxRetriesPerRequest: 1 });
      c.on("error", () => undefined);
      return c;
    };
    const ask = async <T>(port: number, f: (c: IORedis) => Promise<T>): Promise<T> => {
      const c = sentinelClient(port);
      try {
        return await f(c);
      } finally {
        c.disconnect();
      }
    };
    return {
      name,
      password,
      sentinelPassword,
      primary,
      replica,
      sentinels,
      env: {
        REDIS_SENTINELS: sPorts.map((p) => `127.0.0.1:${p}`).join(","),
        REDIS_SENTINEL_NAME: name,
        REDIS_PASSWORD: password,
        REDIS_SENTINEL_PASSWORD: sentinelPassword,
      },
      node,
      masterPort: async () => {
        for (const s of sentinels) {
          try {
            const addr = (await ask(s.port, (c) => c.call("SENTINEL", "get-master-addr-by-name", name))) as
              string[] | null;
            if (addr) return Number(addr[1]);
          } catch {
            // that sentinel is not answering; ask the next
          }
        }
        return undefined;
      },
      settled: async (deadlineMs = 30_000) => {
        const master = Number(
          (
            (await ask(sentinels[0]!.port, (c) =>
              c.call("SENTINEL", "get-master-addr-by-name", name),
            )) as string[]
          )[1],
        );
        const replicaPort = master === primary.port ? replica.port : primary.port;
        await untilTrue(
          "the replica is in sync",
          async () => {
            const c = node(replicaPort);
            try {
              return /master_link_status:up/.test(await c.info("replication"));
            } finally {
              c.disconnect();
            }
          },
          deadlineMs,
        );
        for (const s of sentinels)
          await untilTrue(
            `sentinel ${s.port} knows the group`,
            () =>
              ask(s.port, async (c) => {
                const peers = (await c.call("SENTINEL", "sentinels", name)) as unknown[];
                const replicas = (await c.call("SENTINEL", "replicas", name)) as string[][];
                const flags = replicas.map((r) => r[r.indexOf("flags") + 1] ?? "");
                const ports = replicas.map((r) => Number(r[r.indexOf("port") + 1]));
                return peers.length === 2 && ports.includes(replicaPort) && flags.every((f) => f === "slave");
              }),
            deadlineMs,
          );
      },
      stop: async () => {
        for (const p of started) await p.kill9().catch(() => undefined);
        tmp.remove();
      },
    };
  } catch (err) {
    for (const p of started) await p.kill9().catch(() => undefined);
    tmp.remove();
    throw err;
  }
}
