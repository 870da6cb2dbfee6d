import * as fs from "node:fs";
import * as path from "node:path";
import { backendBucket, type StateBackend } from "./state-backend";

/** A DIY backend's lock of one stack: `{pid, username, hostname, timestamp}` (pkg/backend/diy/lock.go). */
export interface EngineLock {
  /** The lock file's path (file://) or object key (s3://). */
  where: string;
  pid: number;
  hostname: string;
  timestamp: string;
}

/** The locks a DIY backend holds for one stack, wherever it keeps them, and how to remove one. */
export interface EngineLockStore {
  list(): Promise<EngineLock[]>;
  remove(lock: EngineLock): Promise<void>;
}

/**
 * The lock store of a backend. A DIY backend keeps each lock as `<uuid>.json` under
 * `.pulumi/locks/<org>/<project>/<stack>/`, as a file (file://) or an object in the bucket
 * (s3://). Pulumi Cloud keeps its update leases itself: there is nothing here to list or clear.
 */
export function engineLockStore(
  backend: StateBackend,
  projectName: string,
  stackName: string,
): EngineLockStore {
  if (backend.kind === "file")
    return {
      list: async () => engineLockFiles(backend.dir, projectName, stackName),
      remove: async (lock) => fs.rmSync(lock.where, { force: true }),
    };
  if (backend.kind === "cloud") return { list: async () => [], remove: async () => undefined };
  const bucket = backendBucket(backend);
  const root = [backend.prefix, ".pulumi", "locks"].filter(Boolean).join("/") + "/";
  return {
    async list() {
      const keys = (await bucket.listKeys(root)).filter((k) => isStackLock(k, projectName, stackName));
      const out: EngineLock[] = [];
      for (const key of keys) {
        const body = await bucket.getObject(key);
        // Deleted between list and read: its engine let go of it.
        if (body !== undefined) out.push(lockFrom(key, body.toString("utf8")));
      }
      return out;
    },
    remove: (lock) => bucket.deleteObject(lock.where),
  };
}

/** Lock files of one stack in a file:// backend's folder, wherever the backend nests them. */
export function engineLockFiles(stateDir: string, projectName: string, stackName: string): EngineLock[] {
  const out: EngineLock[] = [];
  const walk = (dir: string) => {
    for (const e of safeReaddir(dir)) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (isStackLock(p.split(path.sep).join("/"), projectName, stackName))
        out.push(lockFrom(p, readOrEmpty(p)));
    }
  };
  walk(path.join(stateDir, ".pulumi", "locks"));
  return out;
}

function isStackLock(slashPath: string, projectName: string, stackName: string): boolean {
  const parts = slashPath.split("/");
  return (
    parts[parts.length - 1]!.endsWith(".json") &&
    parts[parts.length - 2] === stackName &&
    parts[parts.length - 3] === projectName
  );
}

/** A lock that does not parse (a CLI killed while writing it) names no process: pid 0, no host. */
function lockFrom(where: string, text: string): EngineLock {
  try {
    const j = JSON.parse(text) as { pid?: number; hostname?: string; timestamp?: string };
    return { where, pid: j.pid ?? 0, hostname: j.hostname ?? "", timestamp: j.timestamp ?? "" };
  } catch {
    return { where, pid: 0, hostname: "", timestamp: "" };
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function safeReaddir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
