import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface CommitRequest {
  repoDir: string;
  file: string;
  message: string;
  author: { name: string; email: string };
}

/**
 * Commits one stack file and nothing else (`git commit --only`), so parallel workers committing
 * different stacks never sweep up each other's changes. Several processes share one repository:
 * a held `index.lock` is retried, not treated as failure, and one a killed git left behind is removed. Returns the new commit, or undefined
 * when the folder is not a git repository or the file did not change.
 */
export async function commitStackFile(req: CommitRequest): Promise<string | undefined> {
  if (!fs.existsSync(path.join(req.repoDir, ".git"))) return undefined;
  const rel = path.relative(req.repoDir, req.file);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: req.author.name,
    GIT_AUTHOR_EMAIL: req.author.email,
    GIT_COMMITTER_NAME: req.author.name,
    GIT_COMMITTER_EMAIL: req.author.email,
  };
  // Long enough for a lock a killed git just left to become stale and be removed.
  const giveUpAt = Date.now() + STALE_GIT_LOCK_MS + 5_000;
  for (;;) {
    try {
      await run("git", ["add", "--", rel], { cwd: req.repoDir, env });
      const status = await run("git", ["status", "--porcelain", "--", rel], { cwd: req.repoDir, env });
      if (status.stdout.trim() === "") return undefined;
      await run("git", ["commit", "--quiet", "--only", "-m", req.message, "--", rel], {
        cwd: req.repoDir,
        env,
      });
      const head = await run("git", ["rev-parse", "HEAD"], { cwd: req.repoDir, env });
      return head.stdout.trim();
    } catch (err) {
      const text = String((err as { stderr?: string }).stderr ?? (err as Error).message);
      const lock = /Unable to create '([^']+\.lock)': File exists/.exec(text)?.[1];
      if (!lock || Date.now() > giveUpAt) throw err;
      removeIfStale(lock);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
    }
  }
}

/**
 * A git lock file (`index.lock`, a ref's `.lock`) older than any commit of one stack file takes is
 * left by a git process that was killed (a worker killed mid-commit): git never removes it, and
 * every later commit in the repository would fail. One that is still fresh belongs to a live git.
 */
export const STALE_GIT_LOCK_MS = 10_000;

function removeIfStale(lockFile: string): void {
  try {
    if (Date.now() - fs.statSync(lockFile).mtimeMs > STALE_GIT_LOCK_MS) fs.rmSync(lockFile, { force: true });
  } catch {
    // gone already: the next attempt takes it
  }
}
