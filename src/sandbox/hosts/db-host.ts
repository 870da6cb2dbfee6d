import { execFile, execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../infra/paths";
import { freePort } from "../../infra/redis-server";
import { deployRolePart } from "./deploy-role-part";
import { postgresBin } from "./postgres-bin";
import { envLine } from "./user-data";

/** The rendered files one database host runs with: boot files and its family's published files. */
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

/**
 * A sandbox fault on one host's container runtime: `promotion-fails` refuses `pg_ctl promote`, as a
 * host whose promotion fails would (the role agent's run then fails and the database stays a standby).
 */
export type DbHostFault = "promotion-fails";

export interface DbHostOptions {
  name: string;
  /** This host's folder (created): data, kept-aside copies, config, socket, the runtime's settings. */
  dir: string;
  /** Where the host's role hook reads its tags (`<url>/tags`): the fleet's metadata service, or file://. */
  metadataUrl: string;
  /** The loopback port standing for the primary's private name (db-primary.int). */
  primaryPort: number;
}

const CONTAINER_RUNTIME = path.join(projectRoot, "src", "sandbox", "hosts", "container-runtime.sh");
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** PostgreSQL refuses to run as root: as root the server and its tools run as Debian's `postgres` user. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
}

/**
 * One database droplet rehearsed on this machine: a real PostgreSQL on a loopback port, driven by
 * the host's own rendered role hook and deploy script. The scripts call `docker`; the container
 * runtime (container-runtime.sh) maps exactly the calls they make onto the local server. The
 * rendered postgresql.conf and pg_hba.conf are used as written, with only the listen address, port,
 * socket folder and the primary's name (→ the forwarder standing for it) rewritten for loopback.
 * /opt/mastodon and /opt/stackyard are this host's folders, bind-mounted in a mount namespace that
 * lives as long as one deploy run (root only, as on a real host).
 */
export class RehearsedDbHost {
  readonly data: string;
  private readonly sock: string;
  private readonly etc: string;
  private readonly optMastodon: string;
  private readonly optStackyard: string;
  private readonly bin: string;
  private files?: DbHostFiles;
  private rolePart = "";

  private constructor(
    readonly opts: DbHostOptions,
    readonly port: number,
  ) {
    const d = opts.dir;
    this.data = path.join(d, "data");
    this.sock = path.join(d, "run");
    this.etc = path.join(d, "etc");
    this.optMastodon = path.join(d, "opt-mastodon");
    this.optStackyard = path.join(d, "opt-stackyard");
    this.bin = path.join(d, "bin");
  }

  get name(): string {
    return this.opts.name;
  }

  /** Makes the host's folders (keeping a data directory already there) and lays out its files. */
  static async create(opts: DbHostOptions, files: DbHostFiles): Promise<RehearsedDbHost> {
    const h = new RehearsedDbHost(opts, await freePort());
    fs.mkdirSync(opts.dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(opts.dir, 0o755);
    for (const dir of [h.etc, h.optMastodon, h.optStackyard, h.bin])
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.mkdirSync(h.sock, { recursive: true, mode: 0o700 });
    if (process.getuid?.() === 0) execFileSync("chown", ["postgres:postgres", h.sock]);
    // The mount points the deploy runs bind this host's folders onto.
    fs.mkdirSync("/opt/mastodon", { recursive: true });
    fs.mkdirSync("/opt/stackyard", { recursive: true });
    fs.copyFileSync(CONTAINER_RUNTIME, path.join(h.bin, "docker"));
    fs.chmodSync(path.join(h.bin, "docker"), 0o755);
    h.lay(files);
    return h;
  }

  /** Writes the host's files as the deploy unit would have pulled them (a new publish takes effect here). */
  lay(f: DbHostFiles): void {
    // The fleet offers the files every period; only a new publish (or the first) is written.
    if (this.files && JSON.stringify(this.files) === JSON.stringify(f)) return;
    this.files = f;
    this.rolePart = deployRolePart(f.deploy);
    const write = (p: string, content: string, mode = 0o644) => {
      fs.writeFileSync(p, content, { mode });
      fs.chmodSync(p, mode);
    };
    write(path.join(this.optMastodon, "host.env"), f.hostEnv, 0o600);
    write(path.join(this.optMastodon, "docker-compose.yml"), f.compose);
    write(path.join(this.optMastodon, "postgresql.conf"), f.postgresqlConf);
    write(path.join(this.optMastodon, "pg_hba.conf"), f.pgHba);
    write(path.join(this.optMastodon, "replication.sql"), f.replicationSql, 0o600);
    write(path.join(this.optStackyard, "role-env"), f.roleEnv, 0o755);
    const primaryHost = this.env("PRIMARY_HOST");
    const vpcCidr = /^host\s+replication\s+\S+\s+(\S+)/m.exec(f.pgHba)?.[1];
    if (!vpcCidr) throw new Error(`${this.name}: the rendered pg_hba.conf has no replication line`);
    const conf = path.join(this.etc, "postgresql.conf");
    const hba = path.join(this.etc, "pg_hba.conf");
    write(
      conf,
      f.postgresqlConf
        .replace(/^listen_addresses = .*$/m, "listen_addresses = '127.0.0.1'")
        .replace(/^port = .*$/m, `port = ${this.port}`)
        .replace(`host=${primaryHost} port=5432`, `host=127.0.0.1 port=${this.opts.primaryPort}`) +
        `unix_socket_directories = '${this.sock}'\n`,
    );
    write(hba, f.pgHba.split(vpcCidr).join("127.0.0.1/32"));
    const runtime = {
      PGBIN: postgresBin(),
      PORT: String(this.port),
      SOCKDIR: this.sock,
      CONF: conf,
      HBA: hba,
      LOG: path.join(this.sock, "server.log"),
      PRIMARY_HOST: primaryHost,
      PRIMARY_PORT: String(this.opts.primaryPort),
      POSTGRES_USER: this.env("DB_USER"),
      POSTGRES_DB: this.env("DB_NAME"),
      POSTGRES_PASSWORD: this.env("DB_PASS"),
      INITDB_SQL: path.join(this.optMastodon, "replication.sql"),
    };
    write(
      path.join(this.opts.dir, "runtime.env"),
      Object.entries(runtime)
        .map(([k, v]) => `${k}=${q(v)}\n`)
        .join(""),
      0o600,
    );
  }

  /** A variable of the host's host.env (DB_USER, DB_PASS, PRIMARY_HOST…). */
  env(key: string): string {
    const v = envLine(this.files?.hostEnv ?? "", key);
    if (v === undefined) throw new Error(`${this.name}: host.env has no ${key}`);
    return v;
  }

  /** The deploy script's role part, as stackyard-deploy.timer runs it: the hook, .env, then compose. */
  deploy(fault?: DbHostFault, timeoutMs = 120_000): Promise<DeployRun> {
    const script = [
      "mount --make-rprivate /",
      `mount --bind ${q(this.optMastodon)} /opt/mastodon`,
      `mount --bind ${q(this.optStackyard)} /opt/stackyard`,
      `exec bash -c ${q(this.rolePart)}`,
    ].join(" && ");
    return new Promise((resolve) => {
      execFile(
        "unshare",
        ["-m", "sh", "-c", script],
        {
          cwd: this.opts.dir,
          encoding: "utf8",
          timeout: timeoutMs,
          maxBuffer: 8 * 1024 * 1024,
          env: {
            ...process.env,
            METADATA_URL: this.opts.metadataUrl,
            PGDATA_HOST: this.data,
            PATH: `${this.bin}:${process.env.PATH}`,
            STACKYARD_HOST_FAULT: fault ?? "",
          },
        },
        (err, stdout, stderr) => {
          const roleEnvFile = path.join(this.optMastodon, "role.env");
          resolve({
            ok: !err,
            stdout: stdout ?? "",
            stderr: `${stderr ?? ""}${err && !stderr ? err.message : ""}`,
            roleEnv: fs.existsSync(roleEnvFile) ? fs.readFileSync(roleEnvFile, "utf8") : "",
          });
        },
      );
    });
  }

  running(): boolean {
    const [cmd, args] = asPostgres(path.join(postgresBin(), "pg_ctl"), ["status", "-D", this.data]);
    return spawnSync(cmd, args, { cwd: this.opts.dir, stdio: "ignore" }).status === 0;
  }

  /** psql as the image's superuser (POSTGRES_USER) on the app database, over the host's socket. */
  sql(query: string): string {
    const [cmd, args] = asPostgres(path.join(postgresBin(), "psql"), [
      "-h",
      this.sock,
      "-p",
      String(this.port),
      "-U",
      this.env("DB_USER"),
      "-d",
      this.env("DB_NAME"),
      "-XAtqc",
      query,
    ]);
    return execFileSync(cmd, args, {
      cwd: this.opts.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  }

  /** Stops the server (fast: as docker stops the container, or immediate); a stopped one is left as it is. */
  stop(mode: "fast" | "immediate" = "fast"): void {
    if (!fs.existsSync(path.join(this.data, "postmaster.pid"))) return;
    const [cmd, args] = asPostgres(path.join(postgresBin(), "pg_ctl"), [
      "-D",
      this.data,
      "-m",
      mode,
      "-w",
      "stop",
    ]);
    spawnSync(cmd, args, { cwd: this.opts.dir, stdio: "ignore", timeout: 60_000 });
  }
}
