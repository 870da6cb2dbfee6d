import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { commitStackFile, STALE_GIT_LOCK_MS } from "../../src/operations/git-commit";
import { tempDir } from "../support/temp-dir";

/** A worker killed in the middle of `git commit` leaves `.git/index.lock`; git never removes it. */
describe("committing a stack file", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let repo: string;
  const author = { name: "test", email: "test@localhost" };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: repo, encoding: "utf8" }).trim();

  beforeEach(() => {
    tmp = tempDir("git-commit");
    repo = tmp.dir;
    fs.mkdirSync(path.join(repo, "stacks"));
    fs.writeFileSync(path.join(repo, "stacks", "Pulumi.theatl.yaml"), "config: {}\n");
    git("init", "-q");
    git("-c", "user.name=t", "-c", "user.email=t@localhost", "add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "seed");
  });
  afterEach(() => tmp.remove());

  it("removes an index.lock a killed git left behind and commits", async () => {
    const file = path.join(repo, "stacks", "Pulumi.theatl.yaml");
    fs.writeFileSync(file, "config: {a: 1}\n");
    const lock = path.join(repo, ".git", "index.lock");
    fs.writeFileSync(lock, "");
    const old = new Date(Date.now() - STALE_GIT_LOCK_MS - 5_000);
    fs.utimesSync(lock, old, old);
    const commit = await commitStackFile({ repoDir: repo, file, message: "theatl: a", author });
    assert.equal(commit, git("rev-parse", "HEAD"));
    assert.equal(git("log", "-1", "--format=%s"), "theatl: a");
    assert.equal(fs.existsSync(lock), false);
  });

  it("waits for a fresh index.lock (a live git) instead of removing it", async () => {
    const file = path.join(repo, "stacks", "Pulumi.theatl.yaml");
    fs.writeFileSync(file, "config: {b: 2}\n");
    const lock = path.join(repo, ".git", "index.lock");
    fs.writeFileSync(lock, "");
    // The "live git" finishes after a moment; the commit goes through after it, not over it.
    const released = new Promise<void>((r) =>
      setTimeout(() => (fs.rmSync(lock, { force: true }), r()), 1500),
    );
    const t0 = Date.now();
    const commit = await commitStackFile({ repoDir: repo, file, message: "theatl: b", author });
    await released;
    assert.ok(Date.now() - t0 >= 1400, "it waited for the live lock");
    assert.equal(commit, git("rev-parse", "HEAD"));
  });
});
