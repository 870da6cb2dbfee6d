import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { hashToken, type TokenEntry } from "../../../src/auth/tokens";
import { startPrivateRedis, type RedisHandle } from "../../../src/infra/redis-server";
import { tempDir } from "../../support/temp-dir";

/** The repository (found upward from this file, so a build into another outDir still finds stacks/). */
export const projectRoot = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json")) || !fs.existsSync(path.join(dir, "stacks")))
    dir = path.dirname(dir);
  return dir;
})();

/** The service entry compiled beside this test build. */
export const MAIN_JS = path.resolve(__dirname, "..", "..", "..", "src", "service", "main.js");

/**
 * Stall settings for tests that kill or freeze workers: a dead worker's job comes back in seconds
 * (production defaults: job lock 30 s, stalled check every 15 s, stack lock 20 s).
 */
export const FAST_STALLS = {
  STACKYARD_LOCK_DURATION_MS: "4000",
  STACKYARD_STALLED_INTERVAL_MS: "2000",
  STACKYARD_STACK_LOCK_TTL_MS: "3000",
};

/** A throwaway deployment: a git workspace copied from the repo's Pulumi.yaml + stacks/, a private Redis, state folders. */
export interface Deployment {
  dir: string;
  workspace: string;
  stateDir: string;
  sandboxDir: string;
  redis: RedisHandle;
  adminToken: string;
  /** A second principal that may approve risky operations (never the requester's token). */
  approverToken: string;
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export function copyWorkspace(into: string, sites: readonly string[]): string {
  const ws = path.join(into, "workspace");
  fs.mkdirSync(path.join(ws, "stacks"), { recursive: true });
  // `main` must exist for the CLI even on the inline path: point it at the repo's compiled entry.
  const project = fs
    .readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")
    .replace(/^main: (.*)$/m, (_m, rel: string) => `main: ${path.join(projectRoot, rel.trim())}`);
  fs.writeFileSync(path.join(ws, "Pulumi.yaml"), project);
  for (const s of sites)
    fs.copyFileSync(
      path.join(projectRoot, "stacks", `Pulumi.${s}.yaml`),
      path.join(ws, "stacks", `Pulumi.${s}.yaml`),
    );
  const git = (...args: string[]) => execFileSync("git", args, { cwd: ws, stdio: "ignore" });
  git("init", "-q");
  git("-c", "user.name=test", "-c", "user.email=test@localhost", "add", ".");
  git("-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qm", "seed");
  return ws;
}

export function adminTokenEntry(token: string): TokenEntry {
  return {
    id: "admin",
    sha256: hashToken(token),
    sites: ["*"],
    operations: ["*"],
    scopes: ["operations:write", "operations:read", "operations:cancel", "operations:approve", "sites:read"],
  };
}

export function approverTokenEntry(token: string): TokenEntry {
  return {
    id: "approver",
    sha256: hashToken(token),
    sites: ["*"],
    operations: ["*"],
    scopes: ["operations:read", "operations:approve", "sites:read"],
  };
}

export async function createDeployment(
  prefix: string,
  sites: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<Deployment> {
  const tmp = tempDir(prefix);
  try {
    const workspace = copyWorkspace(tmp.dir, sites);
    const stateDir = path.join(tmp.dir, "state");
    const sandboxDir = path.join(stateDir, "sandbox-cloud");
    fs.mkdirSync(sandboxDir, { recursive: true });
    const redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    const adminToken = `svc_${randomBytes(24).toString("base64url")}`;
    const approverToken = `svc_${randomBytes(24).toString("base64url")}`;
    const env: Record<string, string> = {
      STACKYARD_STATE_DIR: stateDir,
      STACKYARD_WORKSPACE: workspace,
      STACKYARD_SANDBOX_DIR: sandboxDir,
      STACKYARD_SITES: sites.join(","),
      REDIS_URL: redis.url,
      STACKYARD_PORT: "0",
      STACKYARD_TOKENS: JSON.stringify([adminTokenEntry(adminToken), approverTokenEntry(approverToken)]),
      STACKYARD_LOG_LEVEL: "info",
      ...extraEnv,
    };
    return {
      dir: tmp.dir,
      workspace,
      stateDir,
      sandboxDir,
      redis,
      adminToken,
      approverToken,
      env,
      cleanup: async () => {
        await redis.stop().catch(() => undefined);
        tmp.remove();
      },
    };
  } catch (err) {
    tmp.remove();
    throw err;
  }
}

/** `/proc/<pid>/stat` fields after the command name: state, ppid; undefined once the process is gone. */
function procStat(pid: number): { state: string; ppid: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: state!, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Every process below `pid` (children, their children, …), as they are now. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = procStat(Number(entry));
    if (s) parents.set(Number(entry), s.ppid);
  }
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = [...parents].filter(([, ppid]) => frontier.includes(ppid)).map(([child]) => child);
    found.push(...next);
    frontier = next;
  }
  return found;
}

/** Running (not gone, not a zombie waiting to be reaped). */
export function isRunning(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== "Z";
}

/** A service process (`main.js --role=...`) whose JSON log lines go to a file. */
export interface ServiceProcess {
  child: ChildProcess;
  port?: number;
  logFile: string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL the whole process group: the worker, its pulumi CLI and the provider plugins. */
  killGroup(): Promise<void>;
  exited: Promise<number | null>;
}

/**
 * `main` is the entry script: the service's own, or a test entry that runs changed site programs;
 * `args` follow `--role` on its command line (e.g. `--twin-of=theatl`).
 */
export async function spawnService(
  d: Deployment,
  role: "all" | "api" | "worker",
  name: string,
  env: Record<string, string> = {},
  main: string = MAIN_JS,
  args: readonly string[] = [],
): Promise<ServiceProcess> {
  const logFile = path.join(d.dir, `${name}.log`);
  const out = fs.openSync(logFile, "a");
  const child = spawn(process.execPath, [main, `--role=${role}`, ...args], {
    env: { ...process.env, ...d.env, ...env },
    stdio: ["ignore", out, out],
    detached: true, // its own process group, so a test can kill it with everything it started
  });
  fs.closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = role === "worker" ? "workers started" : "api listening";
  const deadline = Date.now() + 60_000;
  let port: number | undefined;
  for (;;) {
    const lines = fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean);
    const hit = lines.map((l) => safeJson(l)).find((j) => j?.msg === ready && j.pid === child.pid);
    if (hit) {
      port = hit.port as number | undefined;
      break;
    }
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${lines.slice(-20).join("\n")}`);
    if (Date.now() > deadline) throw new Error(`${name} did not start:\n${lines.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    logFile,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
    killGroup: async () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

function safeJson(l: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(l) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
