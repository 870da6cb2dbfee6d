import { execFileSync, spawn } from "node:child_process";
import * as path from "node:path";
import { freePort } from "../../src/infra/redis-server";
import { tempDir } from "./temp-dir";

/** A bare repository served by `git daemon` on loopback (git://), as machines reach a shared remote. */
export interface GitServer {
  url: string;
  /** A folder beside the repository for clones (removed with the server). */
  dir: string;
  stop(): void;
}

export async function startGitServer(prefix: string): Promise<GitServer> {
  const tmp = tempDir(prefix);
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", path.join(tmp.dir, "stacks.git")]);
  const port = await freePort();
  const daemon = spawn(
    "git",
    [
      "daemon",
      "--reuseaddr",
      "--export-all",
      "--enable=receive-pack",
      `--base-path=${tmp.dir}`,
      "--listen=127.0.0.1",
      `--port=${port}`,
      tmp.dir,
    ],
    { stdio: "ignore" },
  );
  const url = `git://127.0.0.1:${port}/stacks.git`;
  const stop = () => {
    daemon.kill();
    tmp.remove();
  };
  for (let i = 0; ; i++) {
    try {
      execFileSync("git", ["ls-remote", url], { stdio: "ignore" });
      return { url, dir: tmp.dir, stop };
    } catch {
      if (i > 300) {
        stop();
        throw new Error("git daemon did not answer");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** git as an operator on a laptop runs it (their own name on commits); returns its trimmed output. */
export function laptopGit(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=laptop", "-c", "user.email=laptop@example.org", ...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}
