import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A rehearsal must not change the real sites' desired state: in sandbox mode, unless a workspace
 * is named, the service works on its own copy of Pulumi.yaml and stacks/ under the state folder,
 * a git repository of its own, so operations commit there and never to the checkout's stacks/.
 * Created once from the checkout; later starts keep the rehearsal's history.
 */
export function prepareSandboxWorkspace(dir: string, from: string): boolean {
  if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return false;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), projectFileFrom(from));
  fs.cpSync(path.join(from, "stacks"), path.join(dir, "stacks"), { recursive: true });
  commitWorkspace(dir, "sandbox workspace: stack files as checked out");
  return true;
}

/**
 * The project file of the workspace `from`, for a copy elsewhere: the CLI checks that `main`
 * exists even for inline programs, so a relative `main` becomes the absolute path it named there.
 */
export function projectFileFrom(from: string): string {
  return fs
    .readFileSync(path.join(from, "Pulumi.yaml"), "utf8")
    .replace(/^main: (.*)$/m, (_m, rel: string) => `main: ${path.resolve(from, rel.trim())}`);
}

/**
 * Makes `dir` (its Pulumi.yaml and stacks/) a git repository of its own with one commit, so the
 * operations of a service working there commit there: a sandbox workspace, a twin's.
 */
export function commitWorkspace(dir: string, message: string): void {
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=stackyard", "-c", "user.email=stackyard@localhost", ...args], {
      cwd: dir,
      stdio: "ignore",
    });
  git("init", "-q");
  git("add", "Pulumi.yaml", "stacks");
  git("commit", "-qm", message);
}
