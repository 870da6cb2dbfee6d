import * as fs from "node:fs";
import { descendants } from "../../test/workers/support/service-harness";

/** RSS (bytes) of one worker process and what runs below it, split by who owns it. */
export interface MemorySample {
  at: number;
  /** The worker process itself. */
  worker: number;
  /** BullMQ's sandboxed children (node processes running BullMQ's child main). */
  children: number;
  childCount: number;
  /** Everything else below the worker: the engine CLI, provider plugins, policy-pack hosts. */
  engine: number;
}

function rss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function isSandboxChild(pid: number): boolean {
  try {
    return /bullmq[/\\]dist[/\\](cjs|esm)[/\\]classes[/\\]main/.test(
      fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"),
    );
  } catch {
    return false;
  }
}

export function sampleMemory(pid: number): MemorySample {
  const s: MemorySample = { at: Date.now(), worker: rss(pid), children: 0, childCount: 0, engine: 0 };
  for (const d of descendants(pid)) {
    if (isSandboxChild(d)) {
      s.children += rss(d);
      s.childCount++;
    } else s.engine += rss(d);
  }
  return s;
}

/** Samples a worker every `everyMs` until stopped; `marks` cut the series into named phases. */
export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    this.timer = setInterval(() => this.samples.push(sampleMemory(this.pid)), everyMs);
  }

  /** The largest worker + children RSS since `since` (ms epoch), and the engine's at the same peak. */
  peakSince(since: number): MemorySample | undefined {
    let best: MemorySample | undefined;
    for (const s of this.samples)
      if (s.at >= since && (!best || s.worker + s.children > best.worker + best.children)) best = s;
    return best;
  }

  now(): MemorySample {
    return sampleMemory(this.pid);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
