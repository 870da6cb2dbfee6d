import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../src/infra/redis-server";
import { postgresBin } from "../../src/sandbox/hosts/postgres-bin";
import { tempDir } from "./temp-dir";

/** The newest PostgreSQL server from Debian's packages (scripts/setup.sh installs it for the tests). */
export const serverBin = postgresBin;

export interface PgNode {
  port: number;
  dataDir: string;
  /** Runs SQL as the superuser over the node's own socket; returns psql's unaligned output. */
  sql(query: string): string;
  stop(): void;
}

/** A real PostgreSQL primary and a streaming standby on loopback, with a `pg_monitor` login for stackyard. */
export interface PostgresPair {
  primary: PgNode;
  standby: PgNode;
  monitor: { user: string; password: string };
  remove(): void;
}

/**
 * PostgreSQL refuses to run as root: when the tests run as root, the server and its tools run as
 * the `postgres` user the Debian package creates, in a folder it owns.
 */
function runner(): (bin: string, args: string[]) => string {
  const asRoot = process.getuid?.() === 0;
  return (bin, args) =>
    execFileSync(asRoot ? "runuser" : bin, asRoot ? ["-u", "postgres", "--", bin, ...args] : args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
}

/** Stops the server of a data directory at once (`-m immediate`); one already stopped is left as it is. */
export function stopImmediately(dataDir: string): void {
  try {
    runner()(path.join(serverBin(), "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  } catch {
    // already stopped
  }
}

/**
 * A scratch folder for PostgreSQL data directories (readable by the `postgres` user), and a maker
 * of folders in it that the server will own.
 */
export function pgScratch(prefix: string): {
  tmp: ReturnType<typeof tempDir>;
  owned: (name: string) => string;
} {
  const tmp = tempDir(prefix);
  fs.chmodSync(tmp.dir, 0o755);
  const owned = (name: string) => {
    const dir = path.join(tmp.dir, name);
    fs.mkdirSync(dir, { mode: 0o700 });
    if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", dir]);
    return dir;
  };
  return { tmp, owned };
}

export async function startPostgresPair(prefix: string, monitorPassword: string): Promise<PostgresPair> {
  const bin = serverBin();
  const run = runner();
  const { tmp, owned } = pgScratch(prefix);
  const started: string[] = [];
  const node = (dataDir: string, port: number): PgNode => ({
    port,
    dataDir,
    sql: (query) =>
      run(path.join(bin, "psql"), [
        "-h",
        dataDir,
        "-p",
        String(port),
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-XAtqc",
        query,
      ]).trim(),
    stop: () => {
      run(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"]);
      started.splice(started.indexOf(dataDir), 1);
    },
  });
  const start = (dataDir: string) => {
    run(path.join(bin, "pg_ctl"), ["-D", dataDir, "-l", path.join(dataDir, "server.log"), "-w", "start"]);
    started.push(dataDir);
  };
  const settings = (dataDir: string, port: number) =>
    fs.appendFileSync(
      path.join(dataDir, "postgresql.conf"),
      `\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dataDir}'\n` +
        // Keepalives every 5 s, so an idle primary's standby hears from it well within the silence limit.
        "wal_sender_timeout = '10s'\nwal_receiver_status_interval = '1s'\n",
    );
  const remove = () => {
    for (const dir of [...started]) stopImmediately(dir);
    tmp.remove();
  };
  try {
    const pDir = owned("primary");
    const pPort = await freePort();
    run(path.join(bin, "initdb"), [
      "-D",
      pDir,
      "-U",
      "postgres",
      "--auth-local=trust",
      "--auth-host=scram-sha-256",
      "--no-sync",
    ]);
    settings(pDir, pPort);
    // Replication by the superuser from loopback only, ahead of the password lines (first match wins).
    const hba = path.join(pDir, "pg_hba.conf");
    fs.writeFileSync(hba, `host replication postgres 127.0.0.1/32 trust\n${fs.readFileSync(hba, "utf8")}`);
    start(pDir);
    const primary = node(pDir, pPort);
    primary.sql(
      `CREATE ROLE stackyard_monitor LOGIN PASSWORD '${monitorPassword.replace(/'/g, "''")}' IN ROLE pg_monitor`,
    );
    primary.sql("CREATE TABLE writes (id bigserial PRIMARY KEY, body text)");

    const sDir = owned("standby");
    const sPort = await freePort();
    run(path.join(bin, "pg_basebackup"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(pPort),
      "-U",
      "postgres",
      "-D",
      sDir,
      "-X",
      "stream",
      "-R",
      "--no-sync",
    ]);
    settings(sDir, sPort);
    start(sDir);
    const standby = node(sDir, sPort);
    for (
      let i = 0;
      standby.sql("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')") !== "streaming";
      i++
    ) {
      if (i > 100) throw new Error("the standby never started streaming");
      await new Promise((r) => setTimeout(r, 100));
    }
    return { primary, standby, monitor: { user: "stackyard_monitor", password: monitorPassword }, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
