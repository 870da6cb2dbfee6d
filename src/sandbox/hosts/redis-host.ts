import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import IORedis from "ioredis";
import { freePort } from "../../infra/redis-server";

/** What an app-side client saw: the rendered password admitted, a client without it refused. */
export interface RedisClientCheck {
  withPassword: string;
  withoutPassword: string;
}

async function ping(port: number, password?: string): Promise<string> {
  const c = new IORedis({
    host: "127.0.0.1",
    port,
    ...(password ? { password } : {}),
    lazyConnect: true,
    // The ready check (INFO) of a client without the password fails before its first command does.
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2000,
  });
  c.on("error", () => undefined);
  try {
    await c.connect();
    return await c.ping();
  } catch (err) {
    return (err as Error).message.split("\n")[0]!;
  } finally {
    c.disconnect();
  }
}

/**
 * The Redis droplet rehearsed on this machine: a real redis-server from the host's published
 * redis.conf, with only bind, port and the data folder rewritten for loopback.
 */
export class RehearsedRedisHost {
  private constructor(
    private readonly proc: ChildProcess,
    readonly port: number,
  ) {}

  static async start(dir: string, renderedConf: string): Promise<RehearsedRedisHost> {
    const port = await freePort();
    const data = path.join(dir, "data");
    fs.mkdirSync(data, { recursive: true, mode: 0o700 });
    const conf = path.join(dir, "redis.conf");
    const local =
      renderedConf.replace(/^bind .*$/m, "bind 127.0.0.1").replace(/^port .*$/m, `port ${port}`) +
      `\ndir ${data}\n`;
    fs.writeFileSync(conf, local, { mode: 0o600 });
    const proc = spawn("redis-server", [conf], { stdio: "ignore" });
    const host = new RehearsedRedisHost(proc, port);
    const until = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(`redis-server exited (${proc.exitCode}) on the rendered redis.conf`);
      if (/NOAUTH|PONG/.test(await ping(port))) return host;
      if (Date.now() > until) {
        proc.kill();
        throw new Error("redis-server did not answer within 30 s");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** An app-side client: with the password the apps are given, and without one. */
  async clientCheck(password: string): Promise<RedisClientCheck> {
    return { withPassword: await ping(this.port, password), withoutPassword: await ping(this.port) };
  }

  stop(): void {
    this.proc.kill();
  }
}
