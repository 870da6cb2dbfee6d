import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/** In the worker process; a BullMQ sandboxed child process per slot; a sandboxed worker thread per slot. */
export type Layout = "in-process" | "sandboxed" | "threads";

/** A benchmark worker process (worker-main.js), in its own process group. */
export interface BenchWorker {
  pid: number;
  child: ChildProcess;
  startMs: number;
  exited: Promise<number | null>;
  alive(): boolean;
  /** SIGTERM (a graceful close), then the whole group SIGKILLed: engine runs a fault orphaned go too. */
  stop(): Promise<void>;
}

export async function startWorker(
  layout: Layout,
  env: Record<string, string>,
  logFile: string,
  concurrency = 2,
): Promise<BenchWorker> {
  const t = Date.now();
  const log = fs.openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [path.join(__dirname, "worker-main.js"), layout, String(concurrency)],
    {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", log],
      detached: true,
    },
  );
  fs.closeSync(log);
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (c) => {
      code = c;
      resolve(c);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${layout} worker not ready in 60 s (see ${logFile})`)),
      60_000,
    );
    child.stdout!.on("data", (b: Buffer) => {
      if (b.toString().includes("ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((c) =>
      reject(new Error(`${layout} worker exited (${c}) before ready (see ${logFile})`)),
    );
  });
  const pid = child.pid!;
  const killGroup = () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // the group is gone already
    }
  };
  return {
    pid,
    child,
    startMs: Date.now() - t,
    exited,
    alive: () => code === undefined,
    stop: async () => {
      if (code === undefined) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      }
      killGroup();
    },
  };
}
