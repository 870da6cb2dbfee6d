import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The shared desired state: a git URL and the branch whose stack files every machine plans on. */
export interface GitRemote {
  url: string;
  branch: string;
}

export interface RemoteFile {
  /** The remote branch's commit that was read. */
  tip: string;
  /** The stack file's text at that commit, or undefined when the branch has no such file. */
  text: string | undefined;
}

export type PublishResult =
  | { status: "pushed"; commit: string; attempts: number }
  | { status: "unchanged"; commit: string }
  /** The remote's stack file is no longer the one this run planned on: the commit that changed it. */
  | { status: "conflict"; commit: string; by: string };

/** The remote could not be read or written (unreachable, refused for another reason than a race). */
export class GitRemoteError extends Error {}

// Both scripts run under one flock per repository (.git/stackyard-remote.lock): the worker
// processes of one machine share the clone, its FETCH_HEAD and the ref they fetch into.
const FETCH = `set -euo pipefail
git fetch --quiet --no-tags "$REMOTE" "+refs/heads/$BRANCH:refs/stackyard/remote"
tip=$(git rev-parse refs/stackyard/remote)
echo "$tip"
if git cat-file -e "$tip:$FILE" 2>/dev/null; then git show "$tip:$FILE" >"$OUT"; fi
`;

// Builds the commit on top of the remote's tip with a private index (nothing else in the clone's
// index or working tree is touched), pushes it, and retries on a race with another pusher as long
// as the remote's copy of this stack file is still the one the run planned on.
const PUBLISH = `set -euo pipefail
for attempt in 1 2 3 4 5 6 7 8; do
  git fetch --quiet --no-tags "$REMOTE" "+refs/heads/$BRANCH:refs/stackyard/remote"
  tip=$(git rev-parse refs/stackyard/remote)
  if git cat-file -e "$tip:$FILE" 2>/dev/null; then git show "$tip:$FILE" >"$NOW"; else : >"$NOW"; fi
  if ! cmp -s "$NOW" "$BASE"; then
    echo "conflict $(git log -1 --format='%H %an <%ae>' "$tip" -- "$FILE")"
    exit 0
  fi
  blob=$(git hash-object -w -- "$FILE")
  GIT_INDEX_FILE="$INDEX" git read-tree "$tip"
  GIT_INDEX_FILE="$INDEX" git update-index --add --cacheinfo "100644,$blob,$FILE"
  tree=$(GIT_INDEX_FILE="$INDEX" git write-tree)
  if [ "$tree" = "$(git rev-parse "$tip^{tree}")" ]; then
    echo "unchanged $tip"
    exit 0
  fi
  commit=$(git commit-tree "$tree" -p "$tip" -F "$MESSAGE")
  if git push --quiet "$REMOTE" "$commit:refs/heads/$BRANCH" 2>"$ERR"; then
    echo "pushed $commit $attempt"
    exit 0
  fi
  if ! grep -Eq "rejected|non-fast-forward|fetch first|cannot lock ref" "$ERR"; then
    cat "$ERR" >&2
    exit 3
  fi
done
echo "git push was rejected 8 times in a row (other machines pushing)" >&2
exit 3
`;

function runLocked(
  repoDir: string,
  script: string,
  env: Record<string, string>,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      "flock",
      ["-w", "120", path.join(repoDir, ".git", "stackyard-remote.lock"), "bash", "-c", script],
      { cwd: repoDir, env: { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0" }, timeout: 180_000 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new GitRemoteError(
              `git remote: ${(stderr || err.message).trim().split("\n").slice(-3).join(" | ")}`,
            ),
          );
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** The service's identity on the commits it makes. */
function authorEnv(author: { name: string; email: string }): Record<string, string> {
  return {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
}

function scratch(): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackyard-git-"));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The remote branch's copy of one stack file (`file` relative to the clone). */
export async function fetchStackFile(repoDir: string, remote: GitRemote, file: string): Promise<RemoteFile> {
  const t = scratch();
  try {
    const out = path.join(t.dir, "file");
    const r = await runLocked(repoDir, FETCH, {
      REMOTE: remote.url,
      BRANCH: remote.branch,
      FILE: file,
      OUT: out,
    });
    return { tip: r.stdout.trim(), text: fs.existsSync(out) ? fs.readFileSync(out, "utf8") : undefined };
  } finally {
    t.remove();
  }
}

/**
 * Pushes the working copy of one stack file as a commit on the remote branch, provided the remote's
 * copy is still `base` (the text this run planned on; undefined: the branch had none). A push that
 * loses a race with another machine is fetched and rebuilt on the new tip (a commit touching other
 * files only); a change to this same file means someone edited the stack meanwhile: `conflict`,
 * naming their commit, and nothing is pushed to the branch.
 */
export async function publishStackFile(
  repoDir: string,
  remote: GitRemote,
  file: string,
  base: string | undefined,
  message: string,
  author: { name: string; email: string },
): Promise<PublishResult> {
  const t = scratch();
  try {
    const p = (n: string) => path.join(t.dir, n);
    fs.writeFileSync(p("base"), base ?? "");
    fs.writeFileSync(p("message"), message);
    const r = await runLocked(repoDir, PUBLISH, {
      REMOTE: remote.url,
      BRANCH: remote.branch,
      FILE: file,
      BASE: p("base"),
      NOW: p("now"),
      INDEX: p("index"),
      MESSAGE: p("message"),
      ERR: p("err"),
      ...authorEnv(author),
    });
    const [word, commit, ...rest] = r.stdout.trim().split(" ");
    if (word === "pushed") return { status: "pushed", commit: commit!, attempts: Number(rest[0]) };
    if (word === "unchanged") return { status: "unchanged", commit: commit! };
    if (word === "conflict") return { status: "conflict", commit: commit!, by: rest.join(" ") };
    throw new GitRemoteError(`git remote: unexpected answer ${JSON.stringify(r.stdout.trim())}`);
  } finally {
    t.remove();
  }
}

/** Keeps a change the branch refused: pushed to `refs/heads/<ref>` so a human can merge it. */
export async function pushAside(
  repoDir: string,
  remote: GitRemote,
  file: string,
  ref: string,
  message: string,
  author: { name: string; email: string },
): Promise<string> {
  const t = scratch();
  try {
    const p = (n: string) => path.join(t.dir, n);
    fs.writeFileSync(p("message"), message);
    const script = `set -euo pipefail
blob=$(git hash-object -w -- "$FILE")
GIT_INDEX_FILE="$INDEX" git read-tree refs/stackyard/remote
GIT_INDEX_FILE="$INDEX" git update-index --add --cacheinfo "100644,$blob,$FILE"
tree=$(GIT_INDEX_FILE="$INDEX" git write-tree)
commit=$(git commit-tree "$tree" -p refs/stackyard/remote -F "$MESSAGE")
git push --quiet --force "$REMOTE" "$commit:refs/heads/$REF"
echo "$commit"
`;
    const r = await runLocked(repoDir, script, {
      REMOTE: remote.url,
      FILE: file,
      REF: ref,
      INDEX: p("index"),
      MESSAGE: p("message"),
      ...authorEnv(author),
    });
    return r.stdout.trim();
  } finally {
    t.remove();
  }
}
