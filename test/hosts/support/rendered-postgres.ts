import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../../src/infra/redis-server";
import { pgScratch, serverBin, stopImmediately } from "../../support/postgres-pair";

/** PostgreSQL refuses to run as root: as root, its tools run as the Debian package's `postgres` user. */
function pg(bin: string, args: string[], env: Record<string, string> = {}): string {
  const exe = path.join(serverBin(), bin);
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const asRoot = process.getuid?.() === 0;
  return execFileSync(
    asRoot ? "runuser" : "env",
    asRoot ? ["-u", "postgres", "--", "env", ...envArgs, exe, ...args] : [...envArgs, exe, ...args],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
}

export interface RenderedPgFiles {
  postgresqlConf: string;
  pgHba: string;
  replicationSql: string;
  replicationUser: string;
  replicationPassword: string;
  vpcCidr: string;
  primaryHost: string;
}

export interface RenderedPair {
  primarySql(q: string): string;
  standbySql(q: string): string;
  /** pg_basebackup as the replication role with the given password; true when the primary accepted it. */
  basebackupWith(password: string): boolean;
  remove(): void;
}

/**
 * A primary and a standby on loopback, configured only from the rendered files: postgresql.conf
 * (with listen address, port and the primary's host name rewritten to loopback), pg_hba.conf (the
 * VPC range rewritten to 127.0.0.1/32), the replication role from replication.sql, and the standby
 * made as the role hook makes it (pg_basebackup as that role, then standby.signal).
 */
export async function startRenderedPair(f: RenderedPgFiles): Promise<RenderedPair> {
  const { tmp, owned } = pgScratch("theatl-pg");
  const started: string[] = [];
  const start = (dir: string) => {
    pg("pg_ctl", ["-D", dir, "-l", path.join(dir, "server.log"), "-w", "-t", "30", "start"]);
    started.push(dir);
  };
  const sql = (dir: string, port: number) => (q: string) =>
    pg("psql", ["-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-XAtqc", q]).trim();
  const remove = () => {
    for (const dir of started) stopImmediately(dir);
    tmp.remove();
  };
  try {
    const pPort = await freePort();
    const sPort = await freePort();
    const local = (conf: string, dir: string, port: number) =>
      conf
        .replace(/^listen_addresses = .*$/m, "listen_addresses = '127.0.0.1'")
        .replace(/^port = .*$/m, `port = ${port}`)
        .replace(`host=${f.primaryHost} port=5432`, `host=127.0.0.1 port=${pPort}`) +
      `\nunix_socket_directories = '${dir}'\n`;
    const pDir = owned("primary");
    pg("initdb", ["-D", pDir, "-U", "postgres", "--no-sync"]);
    fs.appendFileSync(path.join(pDir, "postgresql.conf"), "\n" + local(f.postgresqlConf, pDir, pPort));
    fs.writeFileSync(path.join(pDir, "pg_hba.conf"), f.pgHba.split(f.vpcCidr).join("127.0.0.1/32"));
    start(pDir);
    const primarySql = sql(pDir, pPort);
    primarySql(f.replicationSql);
    primarySql("CREATE TABLE toots (id bigserial PRIMARY KEY, body text)");

    const sDir = owned("standby");
    const basebackup = (password: string, dir: string) =>
      spawnSync(
        "runuser",
        [
          "-u",
          "postgres",
          "--",
          "env",
          `PGPASSWORD=${password}`,
          path.join(serverBin(), "pg_basebackup"),
          "-h",
          "127.0.0.1",
          "-p",
          String(pPort),
          "-U",
          f.replicationUser,
          "-D",
          dir,
          "-X",
          "stream",
          "-w",
          "--no-sync",
        ],
        { encoding: "utf8" },
      );
    const b = basebackup(f.replicationPassword, sDir);
    if (b.status !== 0) throw new Error(`pg_basebackup as ${f.replicationUser} failed: ${b.stderr}`);
    // The copy carries the primary's postgresql.conf; the standby's own port and socket go last.
    fs.appendFileSync(
      path.join(sDir, "postgresql.conf"),
      `\nport = ${sPort}\nunix_socket_directories = '${sDir}'\n`,
    );
    fs.writeFileSync(path.join(sDir, "standby.signal"), "");
    execFileSync("chown", ["-R", "postgres:postgres", sDir]);
    start(sDir);
    const standbySql = sql(sDir, sPort);
    return {
      primarySql,
      standbySql,
      basebackupWith(password) {
        const dir = owned(`probe-${Math.random().toString(36).slice(2)}`);
        return basebackup(password, dir).status === 0;
      },
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}
