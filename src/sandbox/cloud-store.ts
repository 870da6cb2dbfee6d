import * as fs from "node:fs";
import * as path from "node:path";
import { Props } from "./property-values";

// The simulated cloud, on disk under $STACKYARD_SANDBOX_DIR. Several plugin processes (one per
// provider instance, several stacks at once) read and write it concurrently, so:
// - one JSON file per resource, written to a temp file and renamed (readers never see half a file);
// - counters (ids, IP pools, fault counts) change only under a lock file (open with O_EXCL);
// - the call log is append-only JSONL, one appendFileSync per line.

export type RoleAgentFault = "stuck" | "promotion-fails";

/** Simulated behaviour the provider keeps beside a resource's outputs (never returned to the engine). */
export interface SimState {
  /** Lifecycle as the cloud API would report it: active, running, online, forking… */
  status?: string;
  /** For database nodes and managed replicas. */
  role?: "primary" | "standby" | "replica";
  replicationLagSeconds?: number;
  healthy?: boolean;
  /** Nodes of a managed database cluster (primary first). */
  nodes?: DbNode[];
  /** Kubernetes workloads: desired and ready replicas. */
  replicas?: number;
  readyReplicas?: number;
  /** Reserved/floating IPs: the id of the machine currently holding the address. */
  assignedTo?: string;
  /**
   * A database host's role agent (fault): `stuck` ignores new role tags, as a host whose agent
   * hangs would; `promotion-fails` acts on every tag but fails to promote (a rehearsed host's
   * `pg_ctl promote` is refused). Either way its database keeps the role it had.
   */
  roleAgent?: RoleAgentFault;
  [key: string]: unknown;
}

export interface DbNode {
  name: string;
  role: "primary" | "standby";
  replicationLagSeconds: number;
  healthy: boolean;
}

export interface CloudRecord {
  package: string;
  type: string;
  id: string;
  urn: string;
  stack: string;
  inputs: Props;
  outputs: Props;
  sim: SimState;
  createdAt: string;
  updatedAt: string;
}

const LOCK_STALE_MS = 10_000;

export class CloudStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(path.join(dir, "resources"), { recursive: true, mode: 0o700 });
  }

  /** The store named by STACKYARD_SANDBOX_DIR; refuses to guess one. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): CloudStore {
    const dir = env.STACKYARD_SANDBOX_DIR;
    if (!dir)
      throw new Error(
        "sandbox: STACKYARD_SANDBOX_DIR is not set; the sandbox is selected only by configuration",
      );
    return new CloudStore(dir);
  }

  private typeDir(type: string): string {
    return path.join(this.dir, "resources", encodeURIComponent(type));
  }

  private recordPath(type: string, id: string): string {
    return path.join(this.typeDir(type), `${encodeURIComponent(id)}.json`);
  }

  get(type: string, id: string): CloudRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.recordPath(type, id), "utf8")) as CloudRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  put(record: CloudRecord): void {
    fs.mkdirSync(this.typeDir(record.type), { recursive: true, mode: 0o700 });
    writeAtomic(this.recordPath(record.type, record.id), JSON.stringify(record, null, 2));
  }

  remove(type: string, id: string): boolean {
    try {
      fs.unlinkSync(this.recordPath(type, id));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    }
  }

  /** Every resource of one type, or of every type when `type` is omitted. */
  list(type?: string): CloudRecord[] {
    const types = type ? [encodeURIComponent(type)] : safeReaddir(path.join(this.dir, "resources"));
    const out: CloudRecord[] = [];
    for (const t of types) {
      const dir = path.join(this.dir, "resources", t);
      for (const f of safeReaddir(dir)) {
        if (!f.endsWith(".json")) continue;
        const rec = this.get(decodeURIComponent(t), decodeURIComponent(f.slice(0, -5)));
        if (rec) out.push(rec);
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Read-modify-write of one record under the store lock (operations and plugins may race). */
  mutate(type: string, id: string, fn: (rec: CloudRecord) => void): CloudRecord | undefined {
    return this.withLock(() => {
      const rec = this.get(type, id);
      if (!rec) return undefined;
      fn(rec);
      rec.updatedAt = new Date().toISOString();
      this.put(rec);
      return rec;
    });
  }

  /** Adds `by` to a named counter and returns the new value; counters live in counters.json. */
  increment(name: string, by = 1): number {
    return this.withLock(() => {
      const file = path.join(this.dir, "counters.json");
      const counters = readJson<Record<string, number>>(file) ?? {};
      const next = (counters[name] ?? 0) + by;
      counters[name] = next;
      writeAtomic(file, JSON.stringify(counters));
      return next;
    });
  }

  counter(name: string): number {
    return readJson<Record<string, number>>(path.join(this.dir, "counters.json"))?.[name] ?? 0;
  }

  /** Runs fn while holding the store's lock file. A lock older than 10 s belonged to a crashed process. */
  withLock<T>(fn: () => T): T {
    const lock = path.join(this.dir, "store.lock");
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = fs.openSync(lock, "wx");
        fs.writeSync(fd, String(process.pid));
        fs.closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        breakStaleLock(lock);
        if (attempt > 5000) throw new Error("sandbox: store lock is held for too long");
        sleepSync(2);
      }
    }
    try {
      return fn();
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function breakStaleLock(lock: string): void {
  try {
    if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
  } catch {
    // Gone already: the next attempt takes it.
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
