import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { localTokenPaths } from "../../src/auth/local-admin-token";
import { hashToken } from "../../src/auth/tokens";
import { startPrivateRedis } from "../../src/infra/redis-server";
import { createLogger } from "../../src/infra/observability/logger";
import { loadServiceConfig } from "../../src/service/config";
import { startService } from "../../src/service/service";
import { tempDir } from "../support/temp-dir";
import { deployBaseline } from "../workers/support/baseline";
import {
  createDeployment,
  projectRoot,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "../workers/support/service-harness";

const BIN = path.join(projectRoot, "bin", "stackyard");

/** `bin/stackyard` with no STACKYARD_TOKEN or STACKYARD_URL: only where the state folder is. */
function stackyard(
  args: string[],
  stateDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { STACKYARD_TOKEN: _t, STACKYARD_URL: _u, STACKYARD_STATE_DIR: _s, ...rest } = process.env;
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { env: { ...rest, STACKYARD_STATE_DIR: stateDir }, timeout: 120_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe("first run: no token configured in the sandbox", function () {
  this.timeout(600_000);
  let d: Deployment;
  let svc: ServiceProcess | undefined;
  // No STACKYARD_TOKENS: the embedded default; bootstrap on, as `npm start` runs it.
  const env = { STACKYARD_TOKENS: "[]", STACKYARD_SANDBOX_BOOTSTRAP: "true" };

  before(async () => {
    d = await createDeployment("first-run", ["theatl"]);
    await deployBaseline(d, "theatl");
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  it("creates a local admin token once: shown on the terminal, its digest alone kept for the service, the token in a 0600 file only the CLI reads", async () => {
    svc = await spawnService(d, "all", "first", env);
    const paths = localTokenPaths(d.stateDir);
    const token = fs.readFileSync(paths.cliTokenFile, "utf8").trim();
    assert.match(token, /^sy_local_[A-Za-z0-9_-]{43}$/);
    assert.equal(mode(paths.cliTokenFile), 0o600);
    assert.equal(mode(paths.digestFile), 0o600);
    assert.equal(mode(paths.dir), 0o700);
    const digest = fs.readFileSync(paths.digestFile, "utf8");
    assert.equal(JSON.parse(digest).sha256, hashToken(token));
    assert.ok(!digest.includes(token), "the service's file holds the digest only");
    const log = fs.readFileSync(svc.logFile, "utf8");
    assert.equal(log.split(token).length - 1, 1, "printed exactly once");
    assert.match(log, new RegExp(`dashboard +http://127\\.0\\.0\\.1:${svc.port}/dashboard`));
    const jsonLines = log.split("\n").filter((l) => l.startsWith("{"));
    assert.ok(!jsonLines.some((l) => l.includes(token)), "never in a structured log line");
  });

  it("`stackyard status theatl` works with nothing else set and prints the pools and the database topology as the sandbox has them", async () => {
    const r = await stackyard(["status", "theatl"], d.stateDir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split("\n");
    // The bootstrap found theATL deployed and recorded it: revision 0 from the committed stack file.
    assert.equal(lines[0], "theatl: config revision 0, deployed revision 0");
    assert.equal(lines[1], "sidekiq: main ×2 [default,push,ingress,mailers,pull]; scheduler [scheduler]");
    assert.equal(
      lines[2],
      "database (postgres): primary pg-a (primary); standbys pg-b (standby, lag 0 s); fenced none",
    );
    assert.ok(
      lines.includes(
        "operations: scale-sidekiq, add-read-replica, remove-read-replica, failover, detect-drift, revert-drift",
      ),
    );
  });

  it("a restart reuses the stored digest: no new token, nothing printed, the CLI still works", async () => {
    const paths = localTokenPaths(d.stateDir);
    const token = fs.readFileSync(paths.cliTokenFile, "utf8").trim();
    const digest = fs.readFileSync(paths.digestFile, "utf8");
    await svc!.stop();
    svc = await spawnService(d, "all", "second", env);
    assert.equal(fs.readFileSync(paths.cliTokenFile, "utf8").trim(), token);
    assert.equal(fs.readFileSync(paths.digestFile, "utf8"), digest);
    const log = fs.readFileSync(svc.logFile, "utf8");
    assert.ok(!log.includes(token), "the token is not shown again");
    assert.doesNotMatch(log, /created a local administrator/);
    assert.match(log, /local admin token in use/);
    const r = await stackyard(["status", "theatl"], d.stateDir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /primary pg-a/);
  });

  it("the CLI refuses a token file others can read", async () => {
    const file = localTokenPaths(d.stateDir).cliTokenFile;
    fs.chmodSync(file, 0o644);
    try {
      const r = await stackyard(["status", "theatl"], d.stateDir);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cli-token is readable by others \(mode 644\); chmod 600 it/);
    } finally {
      fs.chmodSync(file, 0o600);
    }
  });

  it("live mode never creates one: no files, and every request needs a configured token", async () => {
    const tmp = tempDir("first-run-live");
    const redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    try {
      const stateDir = path.join(tmp.dir, "state");
      const cfg = loadServiceConfig({
        STACKYARD_MODE: "live",
        STACKYARD_STATE_DIR: stateDir,
        STACKYARD_PULUMI_HOME: path.join(tmp.dir, "pulumi-home"),
        STACKYARD_WORKSPACE: d.workspace,
        STACKYARD_SITES: "theatl",
        STACKYARD_PORT: "0",
        REDIS_URL: redis.url,
        PULUMI_CONFIG_PASSPHRASE: "live-passphrase",
      });
      assert.deepEqual(cfg.tokens, []);
      const running = await startService(
        cfg,
        "api",
        createLogger({ level: "error", write: () => undefined }),
      );
      try {
        assert.ok(!fs.existsSync(localTokenPaths(stateDir).dir), "no local token folder in live mode");
        const r = await fetch(`http://127.0.0.1:${running.port}/v1/sites`);
        assert.equal(r.status, 401);
      } finally {
        await running.stop();
      }
    } finally {
      await redis.stop();
      tmp.remove();
    }
  });
});

describe("stackyard token create (for live mode's STACKYARD_TOKENS)", function () {
  this.timeout(60_000);
  const noState = path.join(projectRoot, "no-such-state-dir");

  it("prints a new token and the entry to add, whose digest is the token's", async () => {
    const r = await stackyard(
      [
        "token",
        "create",
        "--id",
        "ops-alice",
        "--sites",
        "theatl,vulpine",
        "--scopes",
        "operations:read,sites:read",
      ],
      noState,
    );
    assert.equal(r.code, 0, r.stderr);
    const token = /^token: +(svc_\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(token, r.stdout);
    const entry = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    assert.deepEqual(entry, {
      id: "ops-alice",
      sha256: hashToken(token!),
      sites: ["theatl", "vulpine"],
      operations: ["*"],
      scopes: ["operations:read", "sites:read"],
    });
    // The service loads it as it is.
    assert.deepEqual(loadServiceConfig({ STACKYARD_TOKENS: JSON.stringify([entry]) }).tokens, [entry]);
  });

  it("refuses an unknown scope naming the flag, and a missing flag", async () => {
    const bad = await stackyard(
      ["token", "create", "--id", "x", "--sites", "*", "--scopes", "root"],
      noState,
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /token create: --scopes: /);
    const missing = await stackyard(["token", "create", "--id", "x", "--scopes", "sites:read"], noState);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--sites is required/);
  });
});
