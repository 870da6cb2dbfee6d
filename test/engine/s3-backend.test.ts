import * as assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { engineBinDir } from "../../src/infra/paths";
import { RecoveryRefusedError } from "../../src/errors";
import { engineEnv, type EngineSettings } from "../../src/engine/engine-env";
import { recoverStack } from "../../src/engine/recovery";
import { StackSession } from "../../src/engine/stack-session";
import { parseBackendUrl, type StateBackend } from "../../src/engine/state-backend";
import { programFromStackConfig } from "../../src/programs/program";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
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
  let first: { workspace: string; session: StackSession };
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
      ...engineEnv({
        stateDir: path.join(other, "unused"),
        backend,
        pulumiHome: home,
        passphrase: PASSPHRASE,
        env: { STACKYARD_SANDBOX_DIR: cloudDir },
      }),
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
        const op = await api.run("theatl", "scale-sidekiq", { count: 3 });
        assert.equal(op.status, "succeeded", op.reason);
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
