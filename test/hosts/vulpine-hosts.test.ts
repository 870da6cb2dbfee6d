import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { parse } from "yaml";
import { runSite, get, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import { tempDir } from "../support/temp-dir";
import {
  fileAt,
  parseCloudConfig,
  shellCheck,
  systemdVerify,
  withHostFiles,
  type RenderedHost,
} from "./support/rendered-host";

const OBJECT = "linode:index/objectStorageObject:ObjectStorageObject";
const SERVICE = "/etc/systemd/system/stackyard-compose-sync.service";
const TIMER = "/etc/systemd/system/stackyard-compose-sync.timer";
const PULL = "/opt/stackyard/pull-compose";

/** A stand-in for the operator's .env.production: test values only, never a real secret. */
const TEST_ENV = "SECRET_KEY_BASE=test-only\nDB_PASS=test-only\nPOSTGRES_PASSWORD=test-only\n";

interface Pulled {
  code: number;
  output: string;
  requests: Array<{ url: string; authorization: string }>;
}

/**
 * Runs the rendered pull script against a loopback stand-in for Linode Object Storage that serves
 * `objects` by path. The script validates with this machine's docker-compose (Debian 12's, as on
 * the host); the stub `docker` on PATH only matters for a script that calls the v2 plugin.
 */
async function pull(
  script: string,
  objects: Record<string, string>,
  files: { key?: string; env?: boolean; existing?: string },
): Promise<Pulled & { dir: string; cleanup(): void }> {
  const t = tempDir("vulpine-pull");
  const requests: Pulled["requests"] = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? "", authorization: String(req.headers.authorization ?? "") });
    const body = objects[req.url ?? ""];
    const signed = /^AWS4-HMAC-SHA256 Credential=TESTACCESS\/\d{8}\/us-east-1\/s3\/aws4_request/.test(
      String(req.headers.authorization ?? ""),
    );
    if (!signed) res.writeHead(403).end("unsigned");
    else if (body === undefined) res.writeHead(404).end("no such key");
    else res.writeHead(200, { "content-type": "application/yaml" }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const dir = path.join(t.dir, "mastodon");
  const bin = path.join(t.dir, "bin");
  fs.mkdirSync(dir);
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, "docker"),
    '#!/bin/sh\n[ "$1" = compose ] && shift\nexec docker-compose "$@"\n',
    {
      mode: 0o755,
    },
  );
  const scriptPath = path.join(t.dir, "pull-compose");
  fs.writeFileSync(scriptPath, script, { mode: 0o755 });
  const keyFile = path.join(t.dir, "deploy-key.env");
  if (files.key !== undefined) fs.writeFileSync(keyFile, files.key, { mode: 0o600 });
  if (files.env) fs.writeFileSync(path.join(dir, ".env.production"), TEST_ENV, { mode: 0o600 });
  if (files.existing !== undefined) fs.writeFileSync(path.join(dir, "docker-compose.yml"), files.existing);
  try {
    const r = await new Promise<{ code: number; output: string }>((resolve) =>
      execFile(
        scriptPath,
        ["vulpine-deploy", "smithwicks/docker-compose.yml", "us-east-1"],
        {
          env: {
            PATH: `${bin}:${process.env.PATH}`,
            STACKYARD_S3_ENDPOINT: `http://127.0.0.1:${port}`,
            STACKYARD_COMPOSE_DIR: dir,
            STACKYARD_DEPLOY_KEY: keyFile,
          },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({
            code: err ? Number((err as { code?: number }).code ?? 1) : 0,
            output: `${stdout}${stderr}`,
          }),
      ),
    );
    return { ...r, requests, dir, cleanup: () => t.remove() };
  } finally {
    server.close();
  }
}

describe("vulpine: what smithwicks is given, read by its consumers", function () {
  this.timeout(120_000);
  let run: Run;
  let host: RenderedHost;
  let published: string;
  before(async () => {
    run = await runSite(configFor("vulpine"));
    const md = get(run, "linode:index/instance:Instance", "smithwicks").inputs.metadatas[0].userData;
    host = parseCloudConfig(Buffer.from(md, "base64").toString("utf8"));
    published = get(run, OBJECT, "vulpine-compose").inputs.content;
  });

  it("has a sync timer and service that `systemd-analyze verify` accepts, calling a pull script the host holds", () => {
    const r = systemdVerify(host, [SERVICE, TIMER]);
    assert.ok(r.ok, r.output);
    assert.equal(fileAt(host, PULL).permissions, "0755");
    assert.ok(
      host.runcmd.some((c) => JSON.stringify(c).includes("enable --now stackyard-compose-sync.timer")),
      "the timer is enabled at first boot",
    );
  });

  it("pull script is shellcheck-clean", () => {
    const r = shellCheck(fileAt(host, PULL).content);
    assert.ok(r.ok, r.output);
  });

  it("pulls exactly the compose object the program publishes, signed with the deploy key", async () => {
    const p = await pull(
      fileAt(host, PULL).content,
      { "/vulpine-deploy/smithwicks/docker-compose.yml": published },
      { key: "ACCESS_KEY=TESTACCESS\nSECRET_KEY=test-secret\n", env: true },
    );
    try {
      assert.equal(p.code, 0, p.output);
      assert.equal(fs.readFileSync(path.join(p.dir, "docker-compose.yml"), "utf8"), published);
      assert.equal(p.requests.length, 1);
      assert.doesNotMatch(p.output, /test-secret/, "the secret key is never printed");
    } finally {
      p.cleanup();
    }
  });

  it("keeps the running compose file when the pull is refused or the env file is missing", async () => {
    const objects = { "/vulpine-deploy/smithwicks/docker-compose.yml": published };
    const script = fileAt(host, PULL).content;
    const noEnv = await pull(script, objects, {
      key: "ACCESS_KEY=TESTACCESS\nSECRET_KEY=s\n",
      existing: "old\n",
    });
    try {
      assert.notEqual(noEnv.code, 0);
      assert.match(noEnv.output, /\.env\.production is missing/);
      assert.equal(fs.readFileSync(path.join(noEnv.dir, "docker-compose.yml"), "utf8"), "old\n");
    } finally {
      noEnv.cleanup();
    }
    const badKey = await pull(script, objects, {
      key: "ACCESS_KEY=OTHER\nSECRET_KEY=s\n",
      env: true,
      existing: "old\n",
    });
    try {
      assert.notEqual(badKey.code, 0);
      assert.equal(fs.readFileSync(path.join(badKey.dir, "docker-compose.yml"), "utf8"), "old\n");
      assert.deepEqual(
        fs.readdirSync(badKey.dir).sort(),
        [".env.production", "docker-compose.yml"],
        "no temp file left",
      );
    } finally {
      badKey.cleanup();
    }
  });

  it("passes `docker-compose config` in place with its env file, wired to db, redis, es, S3 and the seed's IPv6 address", () => {
    const r = withHostFiles(
      host,
      ["/opt/mastodon"],
      "docker-compose",
      ["-f", "/opt/mastodon/docker-compose.yml", "--project-directory", "/opt/mastodon", "config"],
      [
        { path: "/opt/mastodon/docker-compose.yml", content: published, permissions: "0644" },
        { path: "/opt/mastodon/.env.production", content: TEST_ENV, permissions: "0600" },
      ],
    );
    assert.ok(r.ok, r.output);
    const c = parse(r.output.slice(r.output.indexOf("services:"))) as any;
    const web = c.services.web.environment;
    assert.equal(web.SECRET_KEY_BASE, "test-only", "secrets come from the env file");
    assert.deepEqual(
      [web.DB_HOST, web.REDIS_HOST, web.ES_HOST, web.S3_BUCKET, web.S3_PERMISSION],
      ["db", "redis", "es", "vulpine-club-media", "private"],
    );
    assert.match(web.S3_ALIAS_HOST, /cloudfront/);
    assert.equal(c.services["sidekiq-main"].environment.ES_HOST, "es");
    assert.equal(c.services.streaming.environment.ES_HOST, undefined, "streaming is not on es_network");
    assert.equal(c.services.db.environment.POSTGRES_PASSWORD, "test-only");
    assert.equal(c.services.nginx.networks.external_network.ipv6_address, "2600:3c03:e000:27b::e621:10");
    assert.ok(
      c.services.nginx.volumes.some((v: any) =>
        (typeof v === "string" ? v : v.source).startsWith("/etc/letsencrypt"),
      ),
      "certbot's certificates are mounted",
    );
  });
});
