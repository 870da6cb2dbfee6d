import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { parse } from "yaml";
import { get, runSite, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import { tempDir } from "../support/temp-dir";
import { fileAt, nginxTest, parseCloudConfig, selfSigned, type RenderedHost } from "./support/rendered-host";

const SERVER = "hcloud:index/server:Server";
const PG_CONF = "/etc/postgresql/15/main/conf.d/stackyard.conf";
const PG_HBA = "/etc/postgresql/15/main/stackyard_hba.conf";
const REDIS_CONF = "/etc/redis/stackyard.conf";
const MEDIA_CONF = "/etc/nginx/conf.d/stackyard-media.conf";

function sh(cmd: string, args: string[], opts: { input?: string; cwd?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", input: opts.input, cwd: opts.cwd, timeout: 60_000 });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The raw write_files entries (the RenderedHost drops cloud-init's `defer` and `append`). */
function writeFiles(
  userData: string,
): Array<{ path: string; defer?: boolean; append?: boolean; content: string }> {
  return (parse(userData) as { write_files: any[] }).write_files;
}

describe("chitter: what tempo is given, read by its consumers", function () {
  this.timeout(120_000);
  let run: Run;
  let tempo: RenderedHost;
  before(async () => {
    run = await runSite(configFor("chitter"));
    tempo = parseCloudConfig(get(run, SERVER, "tempo").inputs.userData);
  });

  it("installs only packages Debian has, and never hides a failed install", () => {
    assert.ok(tempo.packages.includes("postgresql") && tempo.packages.includes("redis-server"));
    for (const p of tempo.packages) {
      const r = sh("apt-cache", ["show", "--no-all-versions", p]);
      assert.equal(r.code, 0, `Debian has no package ${p}`);
    }
    for (const c of tempo.runcmd) assert.doesNotMatch(JSON.stringify(c), /\|\|\s*true|apt-get install/);
  });

  it("writes PostgreSQL's settings where Debian's cluster reads them, and PostgreSQL accepts them", () => {
    const files = writeFiles(tempo.userData);
    for (const p of [PG_CONF, PG_HBA])
      assert.equal(files.find((f) => f.path === p)?.defer, true, `${p} after the package`);
    const t = tempDir("chitter-pg");
    const bin = "/usr/lib/postgresql/15/bin";
    try {
      fs.chmodSync(t.dir, 0o777);
      const data = path.join(t.dir, "data");
      // From a folder the postgres user may enter: PostgreSQL logs to stderr when it cannot, e.g. a
      // checkout under a private (0700) temp folder.
      const pg = (args: string[]) => sh("runuser", ["-u", "postgres", "--", ...args], { cwd: t.dir });
      assert.equal(pg([`${bin}/initdb`, "-D", data]).code, 0);
      // Debian's postgresql.conf ends with include_dir = 'conf.d'; the hba path is the only rewrite.
      fs.appendFileSync(path.join(data, "postgresql.conf"), "include_dir = 'conf.d'\n");
      fs.mkdirSync(path.join(data, "conf.d"));
      const hba = path.join(t.dir, "stackyard_hba.conf");
      fs.writeFileSync(hba, fileAt(tempo, PG_HBA).content);
      fs.writeFileSync(
        path.join(data, "conf.d", "stackyard.conf"),
        fileAt(tempo, PG_CONF).content.replace(PG_HBA, hba),
      );
      sh("chown", ["-R", "postgres", t.dir]);
      assert.equal(pg([`${bin}/postgres`, "-D", data, "-C", "listen_addresses"]).out, "localhost,10.235.0.4");
      assert.equal(pg([`${bin}/postgres`, "-D", data, "-C", "hba_file"]).out, hba);
      // A real start (loopback socket only) and PostgreSQL's own reading of the hba file.
      const sock = path.join(t.dir, "sock");
      fs.mkdirSync(sock);
      sh("chown", ["postgres", sock]);
      const start = pg([
        `${bin}/pg_ctl`,
        "-D",
        data,
        "-w",
        "-l",
        path.join(t.dir, "log"),
        "-o",
        `-c listen_addresses='' -k ${sock}`,
        "start",
      ]);
      assert.equal(start.code, 0, start.out);
      try {
        const rules = pg([
          "psql",
          "-h",
          sock,
          "-At",
          "-c",
          "select type, address, auth_method, coalesce(error, '') from pg_hba_file_rules",
        ]);
        assert.equal(rules.code, 0, rules.out);
        assert.ok(rules.out.split("\n").includes("host|10.235.0.0|scram-sha-256|"), rules.out);
        assert.doesNotMatch(rules.out, /\|[^|\n]+$/m, "no rule has an error");
      } finally {
        pg([`${bin}/pg_ctl`, "-D", data, "-m", "fast", "stop"]);
      }
    } finally {
      t.remove();
    }
  });

  it("Redis, as Debian's redis.conf includes it, accepts a client with the password and refuses one without", async () => {
    const files = writeFiles(tempo.userData);
    const inc = files.find((f) => f.path === "/etc/redis/redis.conf");
    assert.ok(inc?.append && inc.defer, "appended to Debian's redis.conf after the package");
    assert.match(inc.content, new RegExp(`^include ${REDIS_CONF}$`, "m"));
    const conf = fileAt(tempo, REDIS_CONF).content;
    const t = tempDir("chitter-redis");
    const port = await freePort();
    try {
      const auth = path.join(t.dir, "redis-auth.conf");
      fs.writeFileSync(auth, "requirepass test-only-password\n");
      // Only bind (the private address is not on this machine), port and the include's path change.
      const local = conf
        .replace(/^bind .*$/m, "bind 127.0.0.1")
        .replace("/etc/stackyard/redis-auth.conf", auth);
      fs.writeFileSync(path.join(t.dir, "stackyard.conf"), local);
      fs.writeFileSync(
        path.join(t.dir, "redis.conf"),
        `port ${port}\ndir ${t.dir}\ndaemonize yes\npidfile ${t.dir}/redis.pid\nlogfile ${t.dir}/redis.log\ninclude ${t.dir}/stackyard.conf\n`,
      );
      const started = sh("redis-server", [path.join(t.dir, "redis.conf")]);
      assert.equal(started.code, 0, started.out);
      try {
        let pong = "";
        for (let i = 0; i < 50 && pong !== "PONG"; i++) {
          pong = sh("redis-cli", [
            "-p",
            String(port),
            "--no-auth-warning",
            "-a",
            "test-only-password",
            "ping",
          ]).out;
          if (pong !== "PONG") await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(pong, "PONG");
        assert.match(sh("redis-cli", ["-p", String(port), "ping"]).out, /NOAUTH/);
        const pm = sh("redis-cli", [
          "-p",
          String(port),
          "--no-auth-warning",
          "-a",
          "test-only-password",
          "config",
          "get",
          "protected-mode",
        ]);
        assert.match(pm.out, /protected-mode\nyes/);
      } finally {
        sh("redis-cli", [
          "-p",
          String(port),
          "--no-auth-warning",
          "-a",
          "test-only-password",
          "shutdown",
          "nosave",
        ]);
      }
    } finally {
      t.remove();
    }
    assert.match(conf, /^bind 127\.0\.0\.1 10\.235\.0\.4/m, "listens on the private address too");
  });

  it("serves media through nginx: `nginx -t` accepts the three-origin proxy and the old domain's 301", () => {
    const conf = fileAt(tempo, MEDIA_CONF).content;
    const hosts = [...conf.matchAll(/ssl_certificate \/etc\/letsencrypt\/live\/([^/]+)\//g)].map(
      (m) => m[1]!,
    );
    assert.deepEqual(hosts, ["tempo.orig.media.chitter.xyz", "chitter-media.codl.fr"]);
    const r = nginxTest(tempo, ["/etc/nginx/conf.d", "/etc/letsencrypt"], selfSigned(hosts));
    assert.ok(r.ok, r.output);
    // Newest first: tempo's minio, then parasect's minio, then B2; only the remote two are cached.
    const order = [...conf.matchAll(/proxy_pass (\S+);/g)].map((m) => m[1]);
    assert.deepEqual(order, [
      "http://127.0.0.1:9000/chitter-media$uri",
      "https://$origin_0$uri",
      "https://$origin_1/file/chitter-media$uri",
    ]);
    assert.match(
      conf,
      /server_name chitter-media\.codl\.fr;[^}]*return 301 https:\/\/media\.chitter\.xyz\$request_uri;/,
    );
  });

  it("runs minio as a container on each server, since Debian has no minio package", () => {
    for (const name of ["tempo", "parasect"]) {
      const c = parse(get(run, "aws:s3/bucketObjectv2:BucketObjectv2", `${name}-compose`).inputs.content);
      assert.match(c.services.minio.image, /^minio\/minio:RELEASE\./, name);
    }
  });
});
