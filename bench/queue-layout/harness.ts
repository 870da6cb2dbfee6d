// What the benchmark and the test share: the workload, worker processes, the burst, and who holds
// which Redis connection.
import { fork, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type IORedis from "ioredis";
import type { Submitted } from "./run-checks";
import { runLogKeys } from "./stub-runner";
import { stackName, WORKER_ENV, type WorkerConfig } from "./worker-config";

/** A seeded PRNG (mulberry32): the same workload every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The burst, in submission order: every stack gets one operation, the rest go at random to the
 * first fifth of the stacks, so those get several each and FIFO and one-at-a-time are exercised.
 */
export function workload(stacks: number, ops: number, seed = 16): Submitted[] {
  const rnd = prng(seed);
  const picks = Array.from({ length: ops }, (_, i) =>
    i < stacks ? i : Math.floor(rnd() * Math.ceil(stacks / 5)),
  );
  for (let i = picks.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [picks[i], picks[j]] = [picks[j]!, picks[i]!];
  }
  const seen = new Map<number, number>();
  return picks.map((s, i) => {
    const order = (seen.get(s) ?? 0) + 1;
    seen.set(s, order);
    return { operationId: `op-${i}`, stack: stackName(s), order };
  });
}

/** Anything that takes an operation for a stack and returns its FIFO position. */
export interface Producer {
  enqueue(stack: string, operationId: string, opts?: { enqueuedAt?: number }): Promise<number>;
}

/**
 * Submits the whole workload as fast as the producer takes it, `inFlight` at a time; a stack's
 * operations are submitted one after the other (each after the previous one is queued).
 */
export async function burst(producer: Producer, plan: Submitted[], inFlight = 1000): Promise<void> {
  const last = new Map<string, Promise<unknown>>();
  for (let i = 0; i < plan.length; i += inFlight) {
    const chunk = plan.slice(i, i + inFlight).map((s) => {
      const p = (last.get(s.stack) ?? Promise.resolve()).then(async () => {
        const seq = await producer.enqueue(s.stack, s.operationId, {
          enqueuedAt: performance.timeOrigin + performance.now(),
        });
        if (seq !== s.order) throw new Error(`${s.operationId}: queued at ${seq}, submitted as ${s.order}`);
      });
      last.set(s.stack, p);
      return p;
    });
    await Promise.all(chunk);
  }
}

/** A running worker process. */
export interface WorkerProcess {
  tag: string;
  pid: number;
  child: ChildProcess;
  /** Graceful stop (SIGTERM: running turns finish). */
  stop(): Promise<void>;
}

const WORKER_MAIN = path.join(__dirname, "worker-main.js");

/** Forks a worker process and waits until it takes jobs (or fails to start). */
export async function spawnWorker(url: string, config: WorkerConfig): Promise<WorkerProcess> {
  const child = fork(WORKER_MAIN, [], {
    env: { ...process.env, [WORKER_ENV.url]: url, [WORKER_ENV.config]: JSON.stringify(config) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code, signal) =>
      reject(new Error(`worker ${config.tag} exited before it was ready (${code ?? signal})`)),
    );
  });
  return {
    tag: config.tag,
    pid: child.pid!,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** Polls until `n` operations have finished; throws with the count reached at the deadline. */
export async function waitForFinished(redis: IORedis, n: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const done = await redis.hlen(runLogKeys.done);
    if (done >= n) return;
    if (Date.now() > until) throw new Error(`${done} of ${n} operations finished within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Local ports of a process's TCP sockets (its fds matched against /proc/net/tcp{,6} by inode). */
function localPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const line of fs.readFileSync(table, "utf8").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(":")[1]!, 16));
    }
  }
  return ports;
}

/** One worker process's Redis connections, from CLIENT LIST, by client name. */
export interface ProcessConnections {
  tag: string;
  total: number;
  /** Client name → count; BullMQ's base64 queue name shown as `<queue>`. */
  byName: Record<string, number>;
}

/**
 * CLIENT LIST, attributed to worker processes by the client's port (which process owns that
 * socket), grouped by client name. Connections of the calling process are not counted.
 */
export async function connectionsPerWorker(
  redis: IORedis,
  workers: WorkerProcess[],
): Promise<ProcessConnections[]> {
  const list = (await redis.client("LIST")) as string;
  const clients = list
    .trim()
    .split("\n")
    .map((line) =>
      Object.fromEntries(
        line.split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      ),
    );
  return workers.map((w) => {
    const ports = localPorts(w.pid);
    const byName: Record<string, number> = {};
    let total = 0;
    for (const c of clients) {
      if (!ports.has(Number(c.addr?.split(":").pop()))) continue;
      const name = (c.name || "(none)").replace(/^bull:[^:]+/, "bull:<queue>");
      byName[name] = (byName[name] ?? 0) + 1;
      total++;
    }
    return { tag: w.tag, total, byName };
  });
}
