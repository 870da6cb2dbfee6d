import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../../src/infra/redis-server";
import { pgScratch, serverBin, stopImmediately } from "../../support/postgres-pair";
import { envValue } from "./theatl-host";

/** The rendered files one theATL database host runs with. */
export interface DbHostFiles {
  /** The role hook, /opt/stackyard/role-env. */
  roleEnv: string;
  /** The deploy script, /opt/stackyard/deploy (its role part is run: role hook, .env, compose). */
  deploy: string;
  /** /opt/mastodon/host.env, postgresql.conf, pg_hba.conf, replication.sql, docker-compose.yml. */
  hostEnv: string;
  postgresqlConf: string;
  pgHba: string;
  replicationSql: string;
  compose: string;
}

export interface DeployRun {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** What the role hook printed, as the deploy script wrote it to role.env. */
  roleEnv: string;
}

export interface SimHost {
  name: string;
  /** The data directory (PGDATA_HOST): /mnt/data/postgres of this host. */
  data: string;
  /** This host's folder: data, its kept-aside copies, config, socket, tags. */
  dir: string;
  setTags(tags: string[]): void;
  /** The deploy script's role part, as stackyard-deploy.timer runs it: the hook, .env, then compose. */
  deploy(): DeployRun;
  running(): boolean;
  /** psql as the image's superuser (POSTGRES_USER) on the app database, over the host's socket. */
  sql(q: string): string;
}

export interface DbSim {
  host(name: string, tags: string[]): Promise<SimHost>;
  /** Points the db-primary name at a host, as the operation moves the DNS record. */
  pointPrimaryAt(h: SimHost): void;
  remove(): void;
}

/** The part of DEPLOY_SCRIPT that runs the role hook and converges compose, unmodified. */
export function deployRolePart(deploy: string): string {
  const lines = deploy.split("\n");
  const from = lines.indexOf('role_env=""');
  const to = lines.indexOf('mv "$dir/.env.next" "$dir/.env"');
  const cd = lines.indexOf('cd "$dir"');
  if (from < 0 || to < from || cd < to || !lines.includes("dir=/opt/mastodon"))
    throw new Error("the deploy script's role part is not where it was");
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "dir=/opt/mastodon",
    ...lines.slice(from, to + 1),
    ...lines.slice(cd),
  ].join("\n");
}

/** A TCP forwarder on loopback standing for the db-primary DNS name: each connection goes to the port in `file`. */
const DNS_PROXY = `
const net = require("node:net"), fs = require("node:fs");
const [port, file] = process.argv.slice(1);
net.createServer((c) => {
  let to;
  try { to = Number(fs.readFileSync(file, "utf8")); } catch { c.destroy(); return; }
  const u = net.connect(to, "127.0.0.1");
  c.pipe(u); u.pipe(c);
  u.on("error", () => c.destroy()); c.on("error", () => u.destroy());
  u.on("close", () => c.destroy()); c.on("close", () => u.destroy());
}).listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\\n"));
`;

/**
 * Simulated theATL database droplets on this machine: each its own data directory, port, socket,
 * tags file and /opt/mastodon + /opt/stackyard (bind-mounted in a mount namespace of the run only),
 * with the docker stand-in (docker-standin.sh) on PATH mapping the scripts' docker calls onto the
 * host's local PostgreSQL. The rendered postgresql.conf / pg_hba.conf are used as startRenderedPair
 * uses them: only listen address, port, socket dir and the primary's host name (→ the loopback
 * forwarder standing for the db-primary DNS record) rewritten.
 */
export async function startDbSim(f: DbHostFiles): Promise<DbSim> {
  const { tmp, owned } = pgScratch("theatl-role-agent");
  const bin = path.join(tmp.dir, "bin");
  fs.mkdirSync(bin);
  const standin = path.resolve(__dirname, "../../../../test/hosts/support/docker-standin.sh");
  fs.copyFileSync(standin, path.join(bin, "docker"));
  fs.chmodSync(path.join(bin, "docker"), 0o755);
  const dnsFile = path.join(tmp.dir, "db-primary.port");
  const dnsPort = await freePort();
  const primaryHost = envValue(f.hostEnv, "PRIMARY_HOST");
  const vpcCidr = /^host\s+replication\s+\S+\s+(\S+)/m.exec(f.pgHba)?.[1];
  if (!vpcCidr) throw new Error("no replication line in pg_hba.conf");
  const rolePart = deployRolePart(f.deploy);
  const hosts: SimHost[] = [];
  const ports = new Map<SimHost, number>();
  let proxy: ChildProcess | undefined;

  const remove = () => {
    for (const h of hosts) stopImmediately(h.data);
    proxy?.kill();
    tmp.remove();
  };

  try {
    proxy = spawn(process.execPath, ["-e", DNS_PROXY, String(dnsPort), dnsFile], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      proxy!.stdout!.once("data", () => resolve());
      proxy!.once("exit", (code) => reject(new Error(`the db-primary forwarder exited (${code})`)));
    });
  } catch (err) {
    remove();
    throw err;
  }

  const host = async (name: string, tags: string[]): Promise<SimHost> => {
    const dir = path.join(tmp.dir, name);
    fs.mkdirSync(dir, { mode: 0o755 });
    const sock = owned(`${name}/run`);
    const port = await freePort();
    const etc = path.join(dir, "etc");
    const optMastodon = path.join(dir, "opt-mastodon");
    const optStackyard = path.join(dir, "opt-stackyard");
    const metadata = path.join(dir, "metadata");
    for (const d of [etc, optMastodon, optStackyard, metadata]) fs.mkdirSync(d, { mode: 0o755 });
    const data = path.join(dir, "data");
    const write = (p: string, content: string, mode = 0o644) => fs.writeFileSync(p, content, { mode });
    write(path.join(optMastodon, "host.env"), f.hostEnv, 0o600);
    write(path.join(optMastodon, "docker-compose.yml"), f.compose);
    write(path.join(optMastodon, "postgresql.conf"), f.postgresqlConf);
    write(path.join(optMastodon, "pg_hba.conf"), f.pgHba);
    write(path.join(optMastodon, "replication.sql"), f.replicationSql);
    write(path.join(optStackyard, "role-env"), f.roleEnv, 0o755);
    // What compose gives the db container: the rendered files, only the listen address, port,
    // socket dir and the primary's name (→ the db-primary forwarder) rewritten for loopback.
    const conf = path.join(etc, "postgresql.conf");
    const hba = path.join(etc, "pg_hba.conf");
    write(
      conf,
      f.postgresqlConf
        .replace(/^listen_addresses = .*$/m, "listen_addresses = '127.0.0.1'")
        .replace(/^port = .*$/m, `port = ${port}`)
        .replace(`host=${primaryHost} port=5432`, `host=127.0.0.1 port=${dnsPort}`) +
        `unix_socket_directories = '${sock}'\n`,
    );
    write(hba, f.pgHba.split(vpcCidr).join("127.0.0.1/32"));
    const standinEnv = {
      PGBIN: serverBin(),
      PORT: String(port),
      SOCKDIR: sock,
      CONF: conf,
      HBA: hba,
      LOG: path.join(sock, "server.log"),
      PRIMARY_HOST: primaryHost,
      PRIMARY_PORT: String(dnsPort),
      POSTGRES_USER: envValue(f.hostEnv, "DB_USER"),
      POSTGRES_DB: envValue(f.hostEnv, "DB_NAME"),
      POSTGRES_PASSWORD: envValue(f.hostEnv, "DB_PASS"),
      INITDB_SQL: path.join(optMastodon, "replication.sql"),
    };
    write(
      path.join(dir, "standin.env"),
      Object.entries(standinEnv)
        .map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`)
        .join(""),
    );
    const h: SimHost = {
      name,
      data,
      dir,
      setTags: (t) => write(path.join(metadata, "tags"), t.join("\n") + "\n"),
      deploy() {
        const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
        const script = [
          "mount --make-rprivate /",
          `mount --bind ${q(optMastodon)} /opt/mastodon`,
          `mount --bind ${q(optStackyard)} /opt/stackyard`,
          `exec bash -c ${q(rolePart)}`,
        ].join(" && ");
        fs.mkdirSync("/opt/mastodon", { recursive: true });
        fs.mkdirSync("/opt/stackyard", { recursive: true });
        const r = spawnSync("unshare", ["-m", "sh", "-c", script], {
          encoding: "utf8",
          env: {
            ...process.env,
            METADATA_URL: `file://${metadata}`,
            PGDATA_HOST: data,
            PATH: `${bin}:${process.env.PATH}`,
          },
          timeout: 120_000,
        });
        const roleEnvFile = path.join(optMastodon, "role.env");
        return {
          ok: r.status === 0,
          stdout: r.stdout ?? "",
          stderr: r.stderr ?? "",
          roleEnv: fs.existsSync(roleEnvFile) ? fs.readFileSync(roleEnvFile, "utf8") : "",
        };
      },
      running: () =>
        spawnSync("runuser", ["-u", "postgres", "--", path.join(serverBin(), "pg_ctl"), "status", "-D", data])
          .status === 0,
      sql: (q) =>
        execFileSync(
          "runuser",
          [
            "-u",
            "postgres",
            "--",
            path.join(serverBin(), "psql"),
            "-h",
            sock,
            "-p",
            String(port),
            "-U",
            envValue(f.hostEnv, "DB_USER"),
            "-d",
            envValue(f.hostEnv, "DB_NAME"),
            "-XAtqc",
            q,
          ],
          { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
        ).trim(),
    };
    hosts.push(h);
    ports.set(h, port);
    h.setTags(tags);
    return h;
  };

  return {
    host,
    pointPrimaryAt: (h) => fs.writeFileSync(dnsFile, String(ports.get(h))),
    remove,
  };
}
