import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { laptopGit, startGitServer, type GitServer } from "../support/git-server";
import { ApiClient } from "./support/api-client";
import { deployBaseline, siteCloud, waitForHeld } from "./support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const FILE = "stacks/Pulumi.theatl.yaml";

/**
 * STACKYARD_GIT_REMOTE: the service plans on the remote branch's stack file and pushes what it
 * applied; a laptop clone shares the same truth. The remote is a bare repository served by
 * `git daemon` on loopback (git://), as a second machine would reach it.
 */
describe("stack files in a git remote", function () {
  this.timeout(900_000);
  let remote: GitServer;
  let url: string;
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let laptop: string;

  const git = laptopGit;
  const laptopFile = () => fs.readFileSync(path.join(laptop, FILE), "utf8");
  const revisionIn = (text: string) => Number(/stackyard:configRevision: "?(\d+)/.exec(text)?.[1]);
  const countIn = (text: string) =>
    Number(/pools:\s*\n\s*main:\s*\n(?:.*\n)*?\s*count: (\d+)/.exec(text)?.[1]);
  const laptopEdit = (line: string, message: string) => {
    git(laptop, "pull", "-q", "--ff-only");
    fs.appendFileSync(path.join(laptop, FILE), `${line}\n`);
    git(laptop, "commit", "-qam", message);
    git(laptop, "push", "-q", "origin", "HEAD:main");
    return git(laptop, "rev-parse", "HEAD");
  };
  /** Submits a scale whose first droplet create waits until `during` has run, then releases it. */
  async function scaleWhile(count: number, during: () => void): Promise<any> {
    const cloud = siteCloud(d, "theatl");
    cloud.setFaults({ hold: { method: "create", type: TYPES.droplet } });
    const since = Date.now();
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForHeld(d, since, async () => {
      const now = (await api.get(`/v1/operations/${r.body.id}`)).body;
      return ["succeeded", "failed", "cancelled"].includes(now.status) ? String(now.reason) : undefined;
    });
    during();
    cloud.releaseHold();
    const op = await api.waitFor(r.body.id);
    cloud.clearFaults();
    return op;
  }

  before(async () => {
    remote = await startGitServer("git-remote");
    url = remote.url;
    d = await createDeployment("git-remote", ["theatl"], { STACKYARD_GIT_REMOTE: url });
    await deployBaseline(d, "theatl");
    // The operator seeds the remote with the stack files (credentials set as secrets included), as the shared truth.
    git(d.workspace, "add", "-A");
    git(d.workspace, "commit", "-qm", "theatl: credentials");
    git(d.workspace, "push", "-q", url, "HEAD:refs/heads/main");
    svc = await spawnService(d, "all", "service");
    api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    laptop = path.join(remote.dir, "laptop");
    execFileSync("git", ["clone", "-q", url, laptop]);
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
    remote?.stop();
  });

  it("pushes the stack file an operation applied: the laptop pulls the service's revision", async () => {
    const op = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(op.status, "succeeded", op.reason);
    git(laptop, "pull", "-q", "--ff-only");
    assert.equal(git(laptop, "rev-parse", "HEAD"), op.revision.commit, "the record names the pushed commit");
    assert.equal(revisionIn(laptopFile()), op.revision.to);
    assert.equal(countIn(laptopFile()), 3);
    assert.match(git(laptop, "log", "-1", "--format=%an %s"), /^stackyard theatl: /);
  });

  it("plans on a laptop's pushed change: the next operation's commit sits on top of it", async () => {
    const laptopCommit = laptopEdit("# laptop: a note the service must keep", "theatl: a note");
    const op = await api.run("theatl", "scale-sidekiq", { count: 4 });
    assert.equal(op.status, "succeeded", op.reason);
    git(laptop, "pull", "-q", "--ff-only");
    assert.equal(git(laptop, "rev-parse", "HEAD~1"), laptopCommit);
    assert.match(laptopFile(), /# laptop: a note the service must keep/);
    assert.equal(countIn(laptopFile()), 4);
    const sse = String((await api.get(`/v1/operations/${op.id}/events`)).body);
    assert.match(sse, /event: git-pulled/);
  });

  it("a push that loses a race to another file's commit is rebuilt on it and pushed", async () => {
    let other = "";
    const op = await scaleWhile(5, () => {
      git(laptop, "pull", "-q", "--ff-only");
      fs.writeFileSync(path.join(laptop, "NOTES.md"), "a file of the laptop's\n");
      git(laptop, "add", "NOTES.md");
      git(laptop, "commit", "-qm", "notes");
      git(laptop, "push", "-q", "origin", "HEAD:main");
      other = git(laptop, "rev-parse", "HEAD");
    });
    assert.equal(op.status, "succeeded", op.reason);
    git(laptop, "pull", "-q", "--ff-only");
    assert.equal(
      git(laptop, "rev-parse", "HEAD~1"),
      other,
      "the operation's commit is on top of the laptop's",
    );
    assert.equal(countIn(laptopFile()), 5);
    assert.ok(fs.existsSync(path.join(laptop, "NOTES.md")));
  });

  it("an edit to the same stack file meanwhile is never overwritten: GIT_CONFLICT naming the commit, the change kept aside, later runs refused until merged", async () => {
    let human = "";
    const op = await scaleWhile(6, () => {
      human = laptopEdit("# laptop: an edit made during the operation", "theatl: edit meanwhile");
    });
    assert.equal(op.status, "failed", op.reason);
    assert.equal(op.failure.code, "GIT_CONFLICT");
    assert.ok(op.reason.includes(human), `the reason names ${human}: ${op.reason}`);
    git(laptop, "pull", "-q", "--ff-only");
    assert.equal(git(laptop, "rev-parse", "HEAD"), human, "nothing was pushed over the edit");
    git(laptop, "fetch", "-q", "origin", `stackyard/conflicts/${op.id}`);
    const aside = git(laptop, "show", `FETCH_HEAD:${FILE}`);
    assert.equal(countIn(aside), 6, "the applied change is kept on the conflict branch");
    assert.equal(
      siteCloud(d, "theatl")
        .list(TYPES.droplet, "theatl")
        .filter((r) => /sidekiq-main-\d+$/.test(r.urn)).length,
      6,
    );

    // Refused at submit or by the worker's guard: either way as older than what is deployed.
    const r = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 3 },
    });
    const refusal = r.status === 202 ? (await api.waitFor(r.body.id)).failure : r.body.error;
    assert.equal(refusal?.code, "STALE_CONFIG_REVISION", JSON.stringify(r.body));

    // The human merges: the conflict branch's file, with their line kept.
    fs.writeFileSync(path.join(laptop, FILE), `${aside}\n# laptop: an edit made during the operation\n`);
    git(laptop, "commit", "-qam", "merge the operation's change");
    git(laptop, "push", "-q", "origin", "HEAD:main");
    const next = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(next.status, "succeeded", next.reason);
    git(laptop, "pull", "-q", "--ff-only");
    assert.equal(countIn(laptopFile()), 3);
    assert.match(laptopFile(), /an edit made during the operation/);
  });
});
