import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { engineBinDir } from "../../src/infra/paths";
import { RecoveryRefusedError } from "../../src/errors";
import { closeBackendProxies, engineBackendUrl } from "../../src/engine/backend-proxy";
import { engineEnv, type EngineSettings } from "../../src/engine/engine-env";
import { recoverStack } from "../../src/engine/recovery";
import { StackSession } from "../../src/engine/stack-session";
import { parseBackendUrl, type StateBackend } from "../../src/engine/state-backend";
import { programFromStackConfig } from "../../src/programs/program";
import { installSandboxPlugins, PLUGIN_MAIN } from "../../src/sandbox/install-plugins";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { ApiClient } from "../workers/support/api-client";
import { createDeployment, copyWorkspace, spawnService } from "../workers/support/service-harness";
import { cloudSnapshot, theatlPoolDroplets } from "../workers/support/baseline";
import { laptopCheckout, type LaptopCheckout } from "../support/laptop-checkout";
import { startS3Server, type S3Server } from "../support/s3-server";
import { tempDir } from "../support/temp-dir";

const PASSPHRASE = "shared-backend-passphrase";
const BUCKET = "stackyard-state";
const STATE_KEY = ".pulumi/stacks/stackyard/theatl.json";
const LOCKS = ".pulumi/locks/";

/**
 * The state of theATL in a bucket of a real S3-compatible server (SeaweedFS) on loopback, shared by
 * two engine sessions on separate folders and by the laptop path; a killed engine's lock object is
 * cleared by recovery, a live one is not.
 */
describe("S3 state backend (SeaweedFS on loopback)", function () {
  this.timeout(300_000);
  let s3: S3Server;
  let tmp: ReturnType<typeof tempDir>;
  let backend: StateBackend;
  let cloudDir: string;
  let first: Awaited<ReturnType<typeof machine>>;
  let laptop: LaptopCheckout | undefined;

  /** A machine of its own: its folders, a copy of `stacks` as it pulled them, the bucket shared. */
  async function machine(name: string, stacksFrom?: string) {
    const root = path.join(tmp.dir, name);
    const workspace = copyWorkspace(root, ["theatl"]);
    if (stacksFrom)
      fs.copyFileSync(
        path.join(stacksFrom, "stacks", "Pulumi.theatl.yaml"),
        path.join(workspace, "stacks", "Pulumi.theatl.yaml"),
      );
    const settings: EngineSettings = {
      stateDir: path.join(root, "unused-state"),
      backend,
      pulumiHome: path.join(root, "home"),
      passphrase: PASSPHRASE,
      env: { STACKYARD_SANDBOX_DIR: cloudDir },
      seedSecretConfig: sandboxSiteCredentials("theatl"),
    };
    await installSandboxPlugins(settings.pulumiHome);
    const session = await StackSession.open(
      {
        projectName: "stackyard",
        stackName: "theatl",
        workDir: workspace,
        program: programFromStackConfig(),
      },
      settings,
    );
    return { root, workspace, session, settings };
  }

  before(async () => {
    tmp = tempDir("s3-backend");
    // theATL's simulated account, where the service looks for it too (<STACKYARD_SANDBOX_DIR>/theatl).
    cloudDir = path.join(tmp.dir, "clouds", "theatl");
    fs.mkdirSync(cloudDir, { recursive: true });
    const t0 = Date.now();
    s3 = await startS3Server("s3-backend-server");
    console.log(`      (SeaweedFS served S3 after ${Date.now() - t0} ms)`);
    await s3.client(BUCKET).createBucket();
    backend = parseBackendUrl(s3.backendUrl(BUCKET), {
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
  });

  after(async () => {
    laptop?.remove();
    await closeBackendProxies();
    await s3?.stop();
    tmp?.remove();
  });

  it("deploys theATL with its state in the bucket and nothing on the local disk", async () => {
    const m = await machine("first");
    first = m;
    const r = await m.session.up();
    assert.equal(r.summary.result, "succeeded");
    assert.ok((r.summary.resourceChanges?.create ?? 0) > 10, "theATL's resources were created");
    const keys = await s3.client(BUCKET).listKeys(".pulumi/");
    assert.ok(keys.includes(STATE_KEY), `the checkpoint is an object in the bucket (${keys.join(", ")})`);
    const state = JSON.parse((await s3.client(BUCKET).getObject(STATE_KEY))!.toString("utf8"));
    assert.ok(state.checkpoint.latest.resources.length > 10, "the object holds the deployment");
    assert.equal(fs.existsSync(m.settings.stateDir), false, "no file backend folder was made");
    assert.deepEqual(
      keys.filter((k) => k.startsWith(LOCKS)),
      [],
      "the engine released its lock object",
    );
  });

  it("the engine's environment holds no key: its backend URL is this process's loopback proxy, anonymous", async () => {
    const url = await engineBackendUrl(backend);
    const env = engineEnv(first.settings, url);
    assert.equal(env.PULUMI_BACKEND_URL, url);
    const u = new URL(url);
    assert.equal(u.hostname, BUCKET);
    assert.equal(u.searchParams.get("anonymous"), "true");
    assert.match(u.searchParams.get("endpoint")!, /^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}$/);
    assert.equal(env.AWS_ACCESS_KEY_ID, "");
    assert.equal(env.AWS_SECRET_ACCESS_KEY, "");
    const leaks = Object.entries(env).filter(
      ([, v]) => v.includes(s3.accessKeyId) || v.includes(s3.secretAccessKey),
    );
    assert.deepEqual(leaks, [], "no variable carries the backend's key pair");
    assert.throws(
      () => engineEnv(first.settings),
      /signing proxy/,
      "an s3 backend is never handed over unproxied",
    );
  });

  it("the signing proxy serves its bucket's objects unsigned, and refuses another token, bucket, Host or bucket operation", async () => {
    const endpoint = new URL(new URL(await engineBackendUrl(backend)).searchParams.get("endpoint")!);
    const base = endpoint.href;
    const state = await s3.client(BUCKET).getObject(STATE_KEY);
    const got = await fetch(`${base}/${BUCKET}/${STATE_KEY}`);
    assert.equal(got.status, 200);
    assert.ok(
      Buffer.from(await got.arrayBuffer()).equals(state!),
      "the object's bytes, as the store holds them",
    );
    const listed = await fetch(`${base}/${BUCKET}?list-type=2&prefix=.pulumi%2Fstacks%2F`);
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), new RegExp(`<Key>${STATE_KEY.replace(/\./g, "\\.")}</Key>`));
    await s3.client("other-bucket").createBucket();
    await s3.client("other-bucket").putObject("secret.txt", "not yours");
    const origin = `${endpoint.protocol}//${endpoint.host}`;
    const refusals: Array<[string, string, RequestInit?]> = [
      ["another token", `${origin}/${"0".repeat(48)}/${BUCKET}/${STATE_KEY}`],
      ["no token", `${origin}/${BUCKET}/${STATE_KEY}`],
      ["another bucket", `${base}/other-bucket/secret.txt`],
      ["bucket creation", `${base}/new-bucket`, { method: "PUT" }],
      ["bucket deletion", `${base}/${BUCKET}`, { method: "DELETE" }],
      ["bucket policy", `${base}/${BUCKET}?policy`],
      ["object ACL", `${base}/${BUCKET}/${STATE_KEY}?acl`],
      [
        "a copy from another bucket",
        `${base}/${BUCKET}/.pulumi/stolen.txt`,
        { method: "PUT", headers: { "x-amz-copy-source": "other-bucket/secret.txt" } },
      ],
    ];
    for (const [what, url, init] of refusals) {
      const res = await fetch(url, init);
      assert.equal(res.status, 403, what);
      assert.match(await res.text(), /<Code>AccessDenied<\/Code>/, what);
    }
    // A rebound DNS name (or any Host but the loopback address) is refused as well.
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port: endpoint.port,
          path: `${endpoint.pathname}/${BUCKET}/${STATE_KEY}`,
          headers: { host: `evil.example:${endpoint.port}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    assert.equal(rebound, 403, "another Host");
    assert.equal(await s3.client(BUCKET).getObject(".pulumi/stolen.txt"), undefined, "nothing was copied");
  });

  it("a second session on other folders sees the same state: outputs equal, preview changes nothing", async () => {
    const second = await machine("second", first.workspace);
    assert.notEqual(second.workspace, first.workspace);
    assert.deepEqual(await second.session.outputs(), await first.session.outputs());
    const before = cloudSnapshot(new SandboxCloud(cloudDir));
    const preview = await second.session.preview();
    const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
    assert.deepEqual(changes, [], "nothing to change from the shared state");
    assert.ok((preview.changeSummary.same ?? 0) > 10);
    assert.deepEqual(cloudSnapshot(new SandboxCloud(cloudDir)), before);
  });

  it("recovery clears the lock object of an engine killed mid-update, and the next update runs", async () => {
    // A real engine run (`pulumi refresh`) on another machine's folders, killed once its lock is in the bucket.
    const other = path.join(tmp.dir, "killed");
    const ws = copyWorkspace(other, ["theatl"]);
    fs.copyFileSync(
      path.join(first.workspace, "stacks", "Pulumi.theatl.yaml"),
      path.join(ws, "stacks", "Pulumi.theatl.yaml"),
    );
    const home = path.join(other, "home");
    await installSandboxPlugins(home);
    const env = {
      ...process.env,
      ...engineEnv(
        {
          stateDir: path.join(other, "unused"),
          backend,
          pulumiHome: home,
          passphrase: PASSPHRASE,
          env: { STACKYARD_SANDBOX_DIR: cloudDir },
        },
        await engineBackendUrl(backend),
      ),
    };
    const cli = spawn(
      path.join(engineBinDir(), "pulumi"),
      ["refresh", "--yes", "--skip-preview", "-s", "theatl", "--non-interactive"],
      { cwd: ws, env, stdio: "ignore" },
    );
    const exited = new Promise((r) => cli.once("exit", r));
    const bucket = s3.client(BUCKET);
    let lockKeys: string[] = [];
    const deadline = Date.now() + 120_000;
    while (lockKeys.length === 0) {
      assert.equal(cli.exitCode, null, "the CLI was still running when its lock appeared");
      assert.ok(Date.now() < deadline, "the CLI took its lock within 120 s");
      lockKeys = (await bucket.listKeys(LOCKS)).filter((k) => k.includes("/stackyard/theatl/"));
      if (lockKeys.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    cli.kill("SIGKILL");
    await exited;
    assert.equal(lockKeys.length, 1);
    const lock = JSON.parse((await bucket.getObject(lockKeys[0]!))!.toString("utf8"));
    assert.equal(lock.pid, cli.pid, "the lock names the killed CLI");
    assert.deepEqual(await bucket.listKeys(LOCKS), lockKeys, "the killed CLI left its lock object");

    // Without recovery the stack stays locked for every engine.
    await assert.rejects(first.session.refresh(), /currently locked/);

    const steps: Array<[string, string]> = [];
    await recoverStack({
      session: first.session,
      backend,
      projectName: "stackyard",
      stackName: "theatl",
      liveLockWaitMs: 1_000,
      foreignLockStaleMs: 3_600_000,
      record: async (step, detail) => void steps.push([step, detail]),
    });
    assert.deepEqual(
      steps.map(([s]) => s),
      ["stale-engine-lock-cleared"],
    );
    assert.match(steps[0]![1], new RegExp(`dead pid ${cli.pid}`));
    assert.deepEqual(await bucket.listKeys(LOCKS), [], "the lock object is gone");
    const r = await first.session.up();
    assert.equal(r.summary.result, "succeeded");
  });

  it("recovery leaves the lock object of a live engine and refuses after waiting", async () => {
    const bucket = s3.client(BUCKET);
    const key = `${LOCKS}organization/stackyard/theatl/0b7c9e0e-live.json`;
    // This test process stands in for a running engine on this host: its pid is alive.
    await bucket.putObject(
      key,
      JSON.stringify({
        pid: process.pid,
        username: "op",
        hostname: os.hostname(),
        timestamp: new Date().toISOString(),
      }),
    );
    try {
      const steps: string[] = [];
      const refused = await recoverStack({
        session: first.session,
        backend,
        projectName: "stackyard",
        stackName: "theatl",
        liveLockWaitMs: 1_500,
        foreignLockStaleMs: 3_600_000,
        record: async (step) => void steps.push(step),
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(refused instanceof RecoveryRefusedError, String(refused));
      assert.match(refused.message, new RegExp(`pid ${process.pid}`));
      assert.deepEqual(steps, []);
      assert.deepEqual(await bucket.listKeys(LOCKS), [key], "a live engine's lock is kept");
    } finally {
      await bucket.deleteObject(key);
    }
  });

  it("the laptop path (`pulumi preview -s theatl` with PULUMI_BACKEND_URL) sees the deployed state: no changes", async () => {
    laptop = await laptopCheckout("s3-laptop", { backend, passphrase: PASSPHRASE, cloudDir });
    // The stack file the service wrote (its secrets provider salt and the site's secret config), as a pull brings it.
    fs.copyFileSync(
      path.join(first.workspace, "stacks", "Pulumi.theatl.yaml"),
      path.join(laptop.dir, "stacks", "Pulumi.theatl.yaml"),
    );
    const preview = laptop.pulumi("preview", "--json", "-s", "theatl");
    assert.equal(preview.code, 0, preview.out.slice(-2000));
    // `out` is stdout then stderr: the preview's JSON document names its changeSummary once.
    const summaryJson = /"changeSummary": (\{[^}]*\})/.exec(preview.out)?.[1];
    assert.ok(summaryJson, preview.out.slice(-2000));
    const summary = JSON.parse(summaryJson) as Record<string, number>;
    const changes = Object.entries(summary).filter(([op, n]) => op !== "same" && n > 0);
    assert.deepEqual(changes, [], "the laptop plans nothing against the state the service deployed");
    assert.ok((summary.same ?? 0) > 10, JSON.stringify(summary));
    const stacks = laptop.pulumi("stack", "ls", "--json");
    assert.equal(stacks.code, 0, stacks.out);
    const listed = JSON.parse(stacks.out.slice(0, stacks.out.lastIndexOf("]") + 1)) as Array<{
      name: string;
      resourceCount?: number;
    }>;
    const checkpoint = JSON.parse((await s3.client(BUCKET).getObject(STATE_KEY))!.toString("utf8"));
    assert.deepEqual(
      listed.map((l) => [l.name, l.resourceCount]),
      [["theatl", checkpoint.checkpoint.latest.resources.length]],
      "the laptop lists the bucket's stack",
    );
    const whoami = laptop.pulumi("whoami", "--verbose");
    assert.match(whoami.out, /Backend URL: s3:\/\/stackyard-state\?/, whoami.out);
  });

  it("the service, given PULUMI_BACKEND_URL and the key pair, scales theATL's sidekiq in the bucket's state", async () => {
    const d = await createDeployment("s3-service", ["theatl"], {
      PULUMI_BACKEND_URL: backend.url,
      STACKYARD_BACKEND_ACCESS_KEY_ID: s3.accessKeyId,
      STACKYARD_BACKEND_SECRET_ACCESS_KEY: s3.secretAccessKey,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      STACKYARD_SANDBOX_DIR: path.dirname(cloudDir),
    });
    try {
      // The service's checkout holds the stack file as it was committed after the first deployment.
      fs.copyFileSync(
        path.join(first.workspace, "stacks", "Pulumi.theatl.yaml"),
        path.join(d.workspace, "stacks", "Pulumi.theatl.yaml"),
      );
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qam", "pull"], {
        cwd: d.workspace,
      });
      const cloud = new SandboxCloud(cloudDir);
      assert.equal(theatlPoolDroplets(cloud), 2);
      const svc = await spawnService(d, "all", "service");
      try {
        const api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
        // Every process of the run (the CLI, the language host, the sandbox's provider plugins) is
        // found by the sandbox folder the service hands theATL's engine runs, and read while it runs.
        const probe = probeEnvironments(`STACKYARD_SANDBOX_DIR=${cloudDir}`);
        const op = await api.run("theatl", "scale-sidekiq", { count: 3 }).finally(() => probe.stop());
        assert.equal(op.status, "succeeded", op.reason);
        const seen = await probe.seen;
        const providers = seen.filter((p) => p.cmdline.includes(PLUGIN_MAIN));
        assert.ok(
          providers.length > 0,
          `a provider plugin was read (${seen.map((p) => p.cmdline).join(" | ")})`,
        );
        assert.ok(
          seen.some((p) => /(^|\/)pulumi (up|preview)\b/.test(p.cmdline)),
          "the CLI's update was read",
        );
        const leaking = seen.filter((p) =>
          [s3.accessKeyId, s3.secretAccessKey].some((k) => p.environ.includes(k)),
        );
        assert.deepEqual(
          leaking.map((p) => p.cmdline),
          [],
          "no process of the run holds the backend's keys",
        );
        for (const p of seen) {
          assert.match(p.environ, /\0AWS_ACCESS_KEY_ID=\0/, `AWS_ACCESS_KEY_ID is blank for ${p.cmdline}`);
          assert.match(p.environ, /\0PULUMI_BACKEND_URL=s3:\/\/stackyard-state\?[^\0]*anonymous=true/);
        }
      } finally {
        await svc.stop();
      }
      assert.equal(theatlPoolDroplets(cloud), 3);
      const checkpoint = JSON.parse((await s3.client(BUCKET).getObject(STATE_KEY))!.toString("utf8"));
      const pool = (checkpoint.checkpoint.latest.resources as Array<{ urn: string }>).filter((r) =>
        /::theatl-sidekiq-main-\d+$/.test(r.urn),
      );
      assert.equal(pool.length, 3, "the bucket's state holds the scaled pool");
      assert.equal(
        fs.existsSync(path.join(d.stateDir, "backend")),
        false,
        "no state folder on the service's disk",
      );
      const log = fs.readFileSync(svc.logFile, "utf8");
      assert.ok(log.includes("workers started"));
      assert.equal(log.includes(s3.secretAccessKey), false, "the backend's secret key is never logged");
    } finally {
      await d.cleanup();
    }
  });
});

/** A process read through /proc: its command line and environment (NUL-separated, as the kernel keeps them). */
interface ProcessSeen {
  pid: number;
  cmdline: string;
  environ: string;
}

/**
 * Reads /proc/<pid>/environ of every process whose environment holds `marker`, again and again
 * until stopped, and keeps the first reading of each: a run's plugins live only while it runs.
 */
function probeEnvironments(marker: string): { stop(): void; seen: Promise<ProcessSeen[]> } {
  let stopped = false;
  const found = new Map<number, ProcessSeen>();
  const read = (f: string) => {
    try {
      return fs.readFileSync(f, "utf8");
    } catch {
      return undefined; // gone meanwhile
    }
  };
  const seen = (async () => {
    while (!stopped) {
      for (const name of fs.readdirSync("/proc")) {
        const pid = Number(name);
        if (!Number.isInteger(pid) || pid === process.pid || found.has(pid)) continue;
        const environ = read(`/proc/${pid}/environ`);
        if (!environ || !`\0${environ}`.includes(`\0${marker}\0`)) continue;
        const cmdline = read(`/proc/${pid}/cmdline`)?.replace(/\0/g, " ").trim() ?? "";
        found.set(pid, { pid, cmdline, environ: `\0${environ}` });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return [...found.values()];
  })();
  return {
    stop: () => {
      stopped = true;
    },
    seen,
  };
}
