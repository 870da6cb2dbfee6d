import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseBackendUrl } from "../../src/engine/state-backend";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { laptopGit, startGitServer, type GitServer } from "../support/git-server";
import { laptopCheckout, type LaptopCheckout } from "../support/laptop-checkout";
import { startS3Server, type S3Server } from "../support/s3-server";
import { startSentinelGroup, type SentinelGroup } from "../support/sentinel-group";
import { tempDir } from "../support/temp-dir";
import { ApiClient } from "./support/api-client";
import { theatlPoolDroplets } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const PASSPHRASE = "topology-passphrase";
const BUCKET = "stackyard-topology";
const FILE = "stacks/Pulumi.theatl.yaml";

/**
 * Two service hosts (separate processes, HOMEs, Pulumi homes, state folders and git clones; no
 * folder shared) and an operator's laptop, sharing only what the environment names: the git remote
 * (git daemon), the state backend (SeaweedFS's S3) and Redis through Sentinel. The one other thing
 * in common is theATL's simulated cloud account, which stands for the provider.
 */
describe("topology: two service hosts and a laptop share a git remote, an S3 backend and Redis through Sentinel", function () {
  this.timeout(900_000);
  let tmp: ReturnType<typeof tempDir>;
  let s3: S3Server;
  let g: SentinelGroup;
  let remote: GitServer;
  let laptop: LaptopCheckout;
  let cloud: SandboxCloud;
  const hosts: { d: Deployment; svc: ServiceProcess; api: ApiClient }[] = [];

  const git = laptopGit;
  const laptopFile = () => fs.readFileSync(path.join(laptop.dir, FILE), "utf8");
  const countIn = (text: string) => Number(/main:\s*\n\s*count: (\d+)/.exec(text)?.[1]);

  before(async () => {
    tmp = tempDir("topology");
    const clouds = path.join(tmp.dir, "clouds");
    [s3, g, remote] = await Promise.all([
      startS3Server("topology-s3"),
      startSentinelGroup(),
      startGitServer("topology-git"),
    ]);
    await s3.client(BUCKET).createBucket();
    const backend = parseBackendUrl(s3.backendUrl(BUCKET), {
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    });
    // The operator's first deployment, from the laptop, into the shared bucket; then the stack files
    // (credentials as secrets, the passphrase's salt) become the remote's first commit.
    laptop = await laptopCheckout("topology-laptop", {
      backend,
      passphrase: PASSPHRASE,
      cloudDir: path.join(clouds, "theatl"),
    });
    cloud = laptop.cloud;
    const init = laptop.initSite("theatl");
    assert.equal(init.code, 0, init.out);
    const up = laptop.pulumi("up", "--yes", "--skip-preview", "-s", "theatl");
    assert.equal(up.code, 0, up.out);
    fs.writeFileSync(path.join(laptop.dir, ".gitignore"), "node_modules\ndist\npackage.json\n");
    git(laptop.dir, "init", "-q", "-b", "main");
    git(laptop.dir, "add", "-A");
    git(laptop.dir, "commit", "-qm", "stack files");
    git(laptop.dir, "remote", "add", "origin", remote.url);
    git(laptop.dir, "push", "-q", "origin", "main");
    await g.settled();

    let tokens: string | undefined;
    let adminToken = "";
    for (const name of ["host-a", "host-b"]) {
      const d = await createDeployment(`topology-${name}`, ["theatl"], {
        STACKYARD_GIT_REMOTE: remote.url,
        PULUMI_BACKEND_URL: s3.backendUrl(BUCKET),
        STACKYARD_BACKEND_ACCESS_KEY_ID: s3.accessKeyId,
        STACKYARD_BACKEND_SECRET_ACCESS_KEY: s3.secretAccessKey,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        STACKYARD_SANDBOX_DIR: clouds,
        // A machine of its own; only the engine build is taken from where this one keeps it.
        HOME: path.join(tmp.dir, name, "home"),
        STACKYARD_ENGINE_HOME:
          process.env.STACKYARD_ENGINE_HOME ?? path.join(os.homedir(), ".stackyard", "engine"),
        ...g.env,
      });
      fs.mkdirSync(path.join(tmp.dir, name, "home"), { recursive: true });
      delete d.env.REDIS_URL;
      // Both hosts accept the same tokens.
      tokens ??= d.env.STACKYARD_TOKENS;
      d.env.STACKYARD_TOKENS = tokens;
      adminToken ||= d.adminToken;
      // Its workspace takes the stack files from the remote (its Pulumi.yaml points at this build).
      git(d.workspace, "fetch", "-q", remote.url, "main");
      git(d.workspace, "checkout", "FETCH_HEAD", "--", "stacks");
      git(d.workspace, "commit", "-qm", "stack files from the remote");
      const svc = await spawnService(d, "all", name);
      hosts.push({ d, svc, api: new ApiClient(`http://127.0.0.1:${svc.port}`, adminToken) });
    }
  });

  after(async () => {
    for (const h of hosts) await h.svc.stop().catch(() => undefined);
    for (const h of hosts) await h.d.cleanup().catch(() => undefined);
    laptop?.remove();
    await g?.stop();
    await s3?.stop();
    remote?.stop();
    tmp?.remove();
  });

  it("operations sent to both hosts for one stack run one at a time and end in the right state", async () => {
    const [a, b] = hosts;
    const first = await a!.api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await a!.api.waitFor(first.body.id, 300_000, ["running"]);
    const second = await b!.api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 5 },
    });
    assert.equal(second.status, 202, JSON.stringify(second.body));
    const one = await b!.api.waitFor(first.body.id);
    const two = await a!.api.waitFor(second.body.id);
    assert.equal(one.status, "succeeded", one.reason);
    assert.equal(two.status, "succeeded", two.reason);
    assert.ok(
      Date.parse(two.startedAt) >= Date.parse(one.finishedAt),
      "the second started after the first ended",
    );
    assert.deepEqual([one.revision.to, two.revision.to], [1, 2]);
    assert.equal(theatlPoolDroplets(cloud), 5);
    git(laptop.dir, "pull", "-q", "--ff-only", "origin", "main");
    assert.equal(countIn(laptopFile()), 5, "the remote holds what was applied last");
  });

  it("the laptop, pulled, previews no change; a stale copy of the stack file is refused", () => {
    const current = laptop.pulumi("preview", "--expect-no-changes", "-s", "theatl");
    assert.equal(current.code, 0, current.out);
    const seed = git(laptop.dir, "rev-list", "--max-parents=0", "HEAD");
    git(laptop.dir, "checkout", seed, "--", FILE);
    try {
      const stale = laptop.pulumi("preview", "-s", "theatl");
      assert.notEqual(stale.code, 0);
      assert.match(stale.out, /is at config revision 0 but revision 2 is deployed/);
    } finally {
      git(laptop.dir, "checkout", "HEAD", "--", FILE);
    }
  });

  it("a laptop's pushed change to the stack file is planned on by the next operation, on either host", async () => {
    fs.appendFileSync(path.join(laptop.dir, FILE), "# laptop: kept by the service\n");
    git(laptop.dir, "commit", "-qam", "theatl: a note");
    git(laptop.dir, "push", "-q", "origin", "main");
    const op = await hosts[1]!.api.run("theatl", "scale-sidekiq", { count: 2 });
    assert.equal(op.status, "succeeded", op.reason);
    git(laptop.dir, "pull", "-q", "--ff-only", "origin", "main");
    assert.match(laptopFile(), /# laptop: kept by the service/);
    assert.equal(countIn(laptopFile()), 2);
    assert.equal(theatlPoolDroplets(cloud), 2);
    const preview = laptop.pulumi("preview", "--expect-no-changes", "-s", "theatl");
    assert.equal(preview.code, 0, preview.out);
  });
});
