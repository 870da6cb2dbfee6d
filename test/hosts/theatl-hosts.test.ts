import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../src/infra/redis-server";
import { reveal } from "../../src/sandbox/property-values";
import { byType, get, runSite, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import { tempDir } from "../support/temp-dir";
import { composeFileConfig, shellCheck, systemdVerify, withHostFiles } from "./support/rendered-host";
import { startRenderedPair } from "./support/rendered-postgres";
import {
  envValue,
  publishedOf,
  resolvedCompose,
  runWithTags,
  theatlHost,
  type TheatlHost,
} from "./support/theatl-host";

const DROPLET = "digitalocean:index/droplet:Droplet";
const BUCKET = "digitalocean:index/spacesBucket:SpacesBucket";
/** One droplet of each role family. */
const FAMILY_DROPLET: Record<string, string> = {
  haproxy: "theatl-haproxy",
  nginx: "theatl-nginx",
  web: "theatl-web-1",
  sidekiq: "theatl-sidekiq-main-1",
  postgres: "pg-a",
  redis: "theatl-redis",
};

const fileOf = (h: TheatlHost, p: string): string => {
  const f = [...h.host.files, ...h.pulled].find((x) => x.path === p);
  if (!f) throw new Error(`${h.droplet} has no ${p}`);
  return f.content;
};

/** The .env the deploy unit writes: host.env, then what the role hook printed for these tags. */
function dotEnvOf(h: TheatlHost): { ok: boolean; env: string; stderr: string } {
  const hostEnv = fileOf(h, "/opt/mastodon/host.env");
  const hook = h.host.files.find((f) => f.path === "/opt/stackyard/role-env");
  if (!hook) return { ok: true, env: hostEnv, stderr: "" };
  const r = runWithTags(hook.content, h.tags);
  return { ok: r.ok, env: `${hostEnv}${r.stdout}\n`, stderr: r.stderr };
}

async function waitFor(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("theATL hosts, read by their consumers", function () {
  this.timeout(300_000);
  let run: Run;
  before(async () => {
    run = await runSite(configFor("theatl"));
  });

  describe("Redis", () => {
    it("a redis-server started from the rendered redis.conf admits the apps' password and refuses a client without it", async () => {
      const conf = publishedOf(run, "redis")["redis.conf"]!;
      const web = theatlHost(run, "theatl-web-1");
      const resolved = resolvedCompose(fileOf(web, "/opt/mastodon/docker-compose.yml"), dotEnvOf(web).env);
      assert.ok(resolved.ok, resolved.output);
      const password = resolved.doc!.services.web.environment.REDIS_PASSWORD;
      assert.ok(password && password.length >= 32, "web gets a REDIS_PASSWORD");
      const sidekiq = theatlHost(run, "theatl-sidekiq-main-1");
      const sk = resolvedCompose(fileOf(sidekiq, "/opt/mastodon/docker-compose.yml"), dotEnvOf(sidekiq).env);
      assert.equal(sk.doc!.services.sidekiq.environment.REDIS_PASSWORD, password);

      const port = await freePort();
      const t = tempDir("theatl-redis");
      // Only bind and port are rewritten (loopback, a free port); persistence goes to the scratch dir.
      const local =
        conf.replace(/^bind .*$/m, "bind 127.0.0.1").replace(/^port .*$/m, `port ${port}`) +
        `\ndir ${t.dir}\nsave ""\n`;
      fs.writeFileSync(path.join(t.dir, "redis.conf"), local);
      const server = spawn("redis-server", [path.join(t.dir, "redis.conf")], { stdio: "ignore" });
      try {
        const cli = (...args: string[]) =>
          spawnSync("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { encoding: "utf8" });
        await waitFor("redis to listen", () => /NOAUTH|PONG/.test(cli("PING").stdout));
        assert.match(cli("PING").stdout, /NOAUTH/, "a client without the password is refused");
        assert.match(
          cli("--no-auth-warning", "-a", "wrong", "PING").stdout + cli("-a", "wrong", "PING").stderr,
          /WRONGPASS|NOAUTH|invalid/i,
        );
        assert.equal(cli("--no-auth-warning", "-a", password, "PING").stdout.trim(), "PONG");
      } finally {
        server.kill();
        t.remove();
      }
    });
  });

  describe("logs", () => {
    it("every awslogs-group of every rendered compose file exists as a CloudWatch log group of the program", () => {
      const groups = new Set(byType(run, "aws:cloudwatch/logGroup:LogGroup").map((g) => g.inputs.name));
      let checked = 0;
      for (const [family, droplet] of Object.entries(FAMILY_DROPLET)) {
        const h = theatlHost(run, droplet);
        const r = resolvedCompose(fileOf(h, "/opt/mastodon/docker-compose.yml"), dotEnvOf(h).env);
        assert.ok(r.ok, `${family}: ${r.output}`);
        for (const [name, svc] of Object.entries(r.doc!.services)) {
          assert.equal(svc.logging.driver, "awslogs", `${family}/${name}`);
          const group = svc.logging.options["awslogs-group"];
          assert.ok(
            groups.has(group),
            `${family}/${name} logs to ${group}, which the program does not create`,
          );
          checked++;
        }
      }
      assert.equal(checked, 7);
    });

    it("dockerd gets awslogs credentials of an IAM user that may only write the site's log groups", () => {
      const h = theatlHost(run, "theatl-web-1");
      const r = systemdVerify(h.host, ["/etc/systemd/system/stackyard-deploy.service"]);
      assert.ok(r.ok, r.output);
      assert.match(
        fileOf(h, "/etc/systemd/system/docker.service.d/awslogs.conf"),
        /^EnvironmentFile=\/etc\/stackyard\/awslogs.env$/m,
      );
      const env = fileOf(h, "/etc/stackyard/awslogs.env");
      assert.ok(
        envValue(env, "AWS_ACCESS_KEY_ID").length > 0 && envValue(env, "AWS_SECRET_ACCESS_KEY").length > 0,
      );
      const policy = JSON.parse(get(run, "aws:iam/userPolicy:UserPolicy", "theatl-awslogs").inputs.policy);
      assert.deepEqual(policy.Statement[0].Action, ["logs:CreateLogStream", "logs:PutLogEvents"]);
      assert.match(policy.Statement[0].Resource, /log-group:\/theatl\/mastodon\/\*/);
    });
  });

  describe("sidekiq", () => {
    it("each sidekiq droplet's compose runs the threads and queues of its own tags", () => {
      const cases: Array<[string, string]> = [
        ["theatl-sidekiq-scheduler", "bundle exec sidekiq -c 5 -q scheduler"],
        [
          "theatl-sidekiq-main-2",
          "bundle exec sidekiq -c 25 -q default -q push -q ingress -q mailers -q pull",
        ],
      ];
      for (const [droplet, command] of cases) {
        const h = theatlHost(run, droplet);
        const hook = fileOf(h, "/opt/stackyard/role-env");
        assert.ok(shellCheck(hook).ok, shellCheck(hook).output);
        const env = dotEnvOf(h);
        assert.ok(env.ok, env.stderr);
        const r = resolvedCompose(fileOf(h, "/opt/mastodon/docker-compose.yml"), env.env);
        assert.ok(r.ok, r.output);
        assert.equal(r.doc!.services.sidekiq.command, command, droplet);
      }
    });

    it("a retag takes effect: the deploy timer re-runs the hook, and a droplet without queue tags refuses to start", () => {
      const h = theatlHost(run, "theatl-sidekiq-main-1");
      const retagged = [...h.tags.filter((t) => !t.startsWith("sidekiq-q:")), "sidekiq-q:push"];
      const env = runWithTags(fileOf(h, "/opt/stackyard/role-env"), retagged);
      assert.ok(env.ok, env.stderr);
      const r = resolvedCompose(
        fileOf(h, "/opt/mastodon/docker-compose.yml"),
        fileOf(h, "/opt/mastodon/host.env") + env.stdout,
      );
      assert.equal(r.doc!.services.sidekiq.command, "bundle exec sidekiq -c 25 -q push");
      assert.equal(runWithTags(fileOf(h, "/opt/stackyard/role-env"), ["site:theatl"]).ok, false);
      const units = [
        "/etc/systemd/system/stackyard-deploy.service",
        "/etc/systemd/system/stackyard-deploy.timer",
      ];
      const v = systemdVerify(h.host, units);
      assert.ok(v.ok, v.output);
      assert.ok(
        shellCheck(fileOf(h, "/opt/stackyard/deploy")).ok,
        shellCheck(fileOf(h, "/opt/stackyard/deploy")).output,
      );
      assert.match(
        fileOf(h, "/etc/systemd/system/stackyard-deploy.service"),
        /^ExecStart=\/opt\/stackyard\/deploy$/m,
      );
    });
  });

  describe("PostgreSQL", () => {
    it("a standby configured from the rendered files streams from a primary configured from them", async () => {
      const pgB = theatlHost(run, "pg-b");
      const hostEnv = fileOf(pgB, "/opt/mastodon/host.env");
      const pair = await startRenderedPair({
        postgresqlConf: fileOf(pgB, "/opt/mastodon/postgresql.conf"),
        pgHba: fileOf(pgB, "/opt/mastodon/pg_hba.conf"),
        replicationSql: fileOf(pgB, "/opt/mastodon/replication.sql"),
        replicationUser: envValue(hostEnv, "REPLICATION_USER"),
        replicationPassword: envValue(hostEnv, "REPLICATION_PASSWORD"),
        vpcCidr: "10.10.0.0/20",
        primaryHost: envValue(hostEnv, "PRIMARY_HOST"),
      });
      try {
        assert.equal(envValue(hostEnv, "PRIMARY_HOST"), "db-primary.int.theatl.social");
        await waitFor(
          "the standby to stream",
          () =>
            pair.standbySql("SELECT coalesce((SELECT status FROM pg_stat_wal_receiver), 'none')") ===
            "streaming",
        );
        assert.equal(pair.standbySql("SELECT pg_is_in_recovery()"), "t");
        pair.primarySql("INSERT INTO toots (body) VALUES ('hello from the primary')");
        await waitFor("the row to replicate", () => pair.standbySql("SELECT count(*) FROM toots") === "1");
        assert.equal(
          pair.basebackupWith("not-the-password"),
          false,
          "replication without the password is refused",
        );
      } finally {
        pair.remove();
      }
    });

    it("the role hook reads the role from the droplet's current tags: standby gets standby.signal, fenced holds", () => {
      const h = theatlHost(run, "pg-b");
      const hook = fileOf(h, "/opt/stackyard/role-env");
      assert.ok(shellCheck(hook).ok, shellCheck(hook).output);
      const t = tempDir("pgdata");
      try {
        // A standby whose data directory already holds a cluster: no copy, just standby.signal.
        fs.writeFileSync(path.join(t.dir, "PG_VERSION"), "16\n");
        const standby = runWithTags(hook.replace(/chown 999:999 "\$data\/standby.signal"/, "true"), h.tags, {
          PGDATA_HOST: t.dir,
        });
        assert.ok(standby.ok, standby.stderr);
        assert.match(standby.stdout, /^PG_ROLE=standby$/m);
        assert.ok(fs.existsSync(path.join(t.dir, "standby.signal")));
        const primary = runWithTags(hook, ["site:theatl", "role:pg-primary"], { PGDATA_HOST: t.dir });
        assert.match(primary.stdout, /^PG_ROLE=primary$/m);
        const fenced = runWithTags(hook, ["site:theatl", "role:pg-fenced"], { PGDATA_HOST: t.dir });
        assert.match(fenced.stdout, /^STACKYARD_HOLD=1$/m);
      } finally {
        t.remove();
      }
    });
  });

  describe("dumps", () => {
    it("exactly one database host dumps, the standby, to the dumps bucket with pg_dump | s3cmd", () => {
      const dumpers = byType(run, DROPLET).filter((d) => d.inputs.tags.includes("backup:pgdump"));
      assert.deepEqual(
        dumpers.map((d) => d.name),
        ["pg-b"],
      );
      const stubs = tempDir("stubs");
      const out = tempDir("dump-out");
      try {
        // Stand-ins for docker and s3cmd that record what the script asked for.
        fs.writeFileSync(
          path.join(stubs.dir, "docker"),
          `#!/bin/sh\necho "$*" > ${out.dir}/docker.args\necho PGDMP-bytes\n`,
          { mode: 0o755 },
        );
        fs.writeFileSync(
          path.join(stubs.dir, "s3cmd"),
          `#!/bin/sh\necho "$*" > ${out.dir}/s3cmd.args\ncat > ${out.dir}/uploaded\n`,
          { mode: 0o755 },
        );
        for (const name of ["pg-b", "pg-a"]) {
          const h = theatlHost(run, name);
          const tagsDir = tempDir("tags");
          fs.writeFileSync(path.join(tagsDir.dir, "tags"), h.tags.join("\n") + "\n");
          const saved = { PATH: process.env.PATH, METADATA_URL: process.env.METADATA_URL };
          process.env.PATH = `${stubs.dir}:${process.env.PATH}`;
          process.env.METADATA_URL = `file://${tagsDir.dir}`;
          try {
            const r = withHostFiles(
              { ...h.host, files: [...h.host.files, ...h.pulled] },
              ["/opt/mastodon", "/opt/stackyard", "/etc/stackyard"],
              "bash",
              ["/opt/stackyard/pg-dump"],
            );
            assert.ok(r.ok, `${name}: ${r.output}`);
            if (name === "pg-b") {
              assert.match(
                fs.readFileSync(path.join(out.dir, "docker.args"), "utf8"),
                /^compose exec -T db pg_dump -U mastodon -Fc mastodon_production$/m,
              );
              assert.match(
                fs.readFileSync(path.join(out.dir, "s3cmd.args"), "utf8"),
                /--config=\/etc\/stackyard\/dumps.s3cfg --no-progress put - s3:\/\/theatl-social-pg-dumps\/\d{4}\/\d{2}\/\d{2}\/\d{6}Z\.dump/,
              );
              assert.equal(fs.readFileSync(path.join(out.dir, "uploaded"), "utf8"), "PGDMP-bytes\n");
              fs.rmSync(path.join(out.dir, "docker.args"));
            } else {
              assert.match(r.output, /not the dump host/);
              assert.equal(fs.existsSync(path.join(out.dir, "docker.args")), false, "pg-a dumped too");
            }
          } finally {
            process.env.PATH = saved.PATH;
            if (saved.METADATA_URL === undefined) delete process.env.METADATA_URL;
            else process.env.METADATA_URL = saved.METADATA_URL;
            tagsDir.remove();
          }
        }
      } finally {
        stubs.remove();
        out.remove();
      }
    });

    it("the dump timer's interval comes from postgres.dumps.everyMinutes and systemd accepts it", async () => {
      const timerOf = (r: Run) => publishedOf(r, "postgres")["units/pg-dump.timer"]!;
      const other = await runSite(configFor("theatl", { "postgres.dumps.everyMinutes": 45 }));
      for (const [r, minutes] of [
        [run, 30],
        [other, 45],
      ] as const) {
        const h = theatlHost(r, "pg-b");
        const host = {
          ...h.host,
          files: [
            ...h.host.files,
            { path: "/etc/systemd/system/pg-dump.timer", content: timerOf(r), permissions: "0644" },
          ],
        };
        const v = systemdVerify(host, [
          "/etc/systemd/system/pg-dump.timer",
          "/etc/systemd/system/pg-dump.service",
        ]);
        assert.ok(v.ok, v.output);
        const spans = spawnSync(
          "systemd-analyze",
          ["timespan", /^OnUnitActiveSec=(.*)$/m.exec(timerOf(r))![1]!],
          { encoding: "utf8" },
        );
        assert.match(spans.stdout, new RegExp(`μs: ${minutes * 60_000_000}\\b`), spans.stdout);
      }
      assert.ok(shellCheck(fileOf(theatlHost(run, "pg-b"), "/opt/stackyard/pg-dump")).ok);
    });
  });

  describe("userData", () => {
    it("is byte-identical per role when mastodonImage, sshKeys, postgres.version or sidekiq counts change", async () => {
      const variants = await Promise.all([
        runSite(configFor("theatl", { mastodonImage: "ghcr.io/mastodon/mastodon:v4.3.18" })),
        runSite(configFor("theatl", { sshKeys: ["ops-2026"] })),
        runSite(configFor("theatl", { "postgres.version": "17" })),
        runSite(configFor("theatl", { "sidekiq.pools.main.count": 4, "sidekiq.scheduler.threads": 7 })),
      ]);
      for (const v of variants)
        for (const d of byType(run, DROPLET))
          assert.equal(reveal(get(v, DROPLET, d.name).inputs.userData), reveal(d.inputs.userData), d.name);
      // What did change reached the deploy bucket instead.
      assert.match(publishedOf(variants[0]!, "web")["docker-compose.yml"]!, /mastodon:v4\.3\.18/);
      assert.match(publishedOf(variants[2]!, "postgres")["docker-compose.yml"]!, /postgres:17/);
    });

    it("a new sshKeys list never replaces a running droplet (DigitalOcean installs keys only at creation)", () => {
      for (const d of byType(run, DROPLET)) assert.ok(d.opts.ignoreChanges?.includes("sshKeys"), d.name);
    });

    it("every published compose file passes docker-compose config on its own and with its .env", () => {
      for (const name of Object.values(FAMILY_DROPLET)) {
        const h = theatlHost(run, name);
        const compose = fileOf(h, "/opt/mastodon/docker-compose.yml");
        assert.ok(composeFileConfig(compose).ok, name);
        const r = resolvedCompose(compose, dotEnvOf(h).env);
        assert.ok(r.ok, `${name}: ${r.output}`);
        assert.doesNotMatch(
          compose,
          /PASSWORD=|requirepass|password=/,
          `${name}: a secret in the compose file`,
        );
      }
    });
  });

  describe("object storage", () => {
    it("the media bucket lists nothing, Mastodon writes public-read objects to it and serves them from the CDN", () => {
      assert.equal(get(run, BUCKET, "theatl-media").inputs.acl, "private");
      const h = theatlHost(run, "theatl-web-1");
      const r = resolvedCompose(fileOf(h, "/opt/mastodon/docker-compose.yml"), dotEnvOf(h).env);
      const env = r.doc!.services.web.environment;
      assert.equal(env.S3_ENABLED, "true");
      assert.equal(env.S3_PERMISSION, "public-read");
      assert.equal(env.S3_ALIAS_HOST, run.outputs.endpoints.mediaCdn);
      assert.equal(env.S3_BUCKET, "theatl-social-media");
      assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY, "media write key");
    });

    it("old dump versions expire: the dumps bucket has a noncurrent-version expiry", () => {
      const rules = get(run, BUCKET, "theatl-pg-dumps").inputs.lifecycleRules;
      assert.equal(rules[0].noncurrentVersionExpiration.days, 14);
      assert.equal(rules[0].expiration.days, 14);
    });
  });
});
