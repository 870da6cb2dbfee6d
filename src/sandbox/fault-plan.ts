import * as fs from "node:fs";
import * as path from "node:path";
import { CloudStore, readJson, writeAtomic } from "./cloud-store";

// Faults a test injects into the simulated clouds. The plan is re-read from
// $STACKYARD_SANDBOX_DIR/faults.json on every call, so a test can change it between runs without
// restarting anything. Counters ("the Nth create") live in the store, so they count across all
// plugin processes; they are keyed by the plan's generation, so writing a new plan starts afresh.

export interface FaultPlan {
  /** Added to every provider call (milliseconds). */
  latencyMs?: number;
  /** The Nth create (1-based) of this resource type fails with an API error; earlier and later ones succeed. */
  failNthCreate?: { type: string; n: number; message?: string };
  /**
   * The next `times` calls (of `type`, or of any type) are answered "429 Too Many Requests".
   * The provider retries internally up to THROTTLE_RETRIES times with backoff, as the real
   * tfbridge providers' HTTP clients do; more 429s than that surface as an error to the engine.
   */
  throttle?: { type?: string; times: number };
  /**
   * The Nth create (default 1st) of this type kills the plugin process with SIGKILL mid-create.
   * `after: "cloud-write"` (default) crashes after the cloud made the resource (a leaked resource the
   * engine never heard of); `"before-cloud-write"` crashes before anything exists.
   */
  crashOnCreate?: { type: string; n?: number; after?: "cloud-write" | "before-cloud-write" };
  /**
   * The Nth call (default 1st) of `method` (of `type`, or of any type) waits, logged as `held`
   * (`diff` is the engine's question during preview and up; the others change the cloud),
   * until the test releases it (SandboxCloud.releaseHold). A test can then act at a known point of
   * an engine run (a cancel, a kill) instead of guessing with sleeps; later calls are not held.
   */
  hold?: { method: "diff" | "create" | "update" | "delete"; type?: string; n?: number };
  /** Set by writeFaultPlan; a new generation resets every fault counter. */
  generation?: string;
}

export const THROTTLE_RETRIES = 4;
const FILE = "faults.json";
/** A held call waits at most this long for its release, so a forgotten hold cannot hang a run for ever. */
export const HOLD_LIMIT_MS = 600_000;
const releaseFile = (dir: string, generation: string | undefined) =>
  path.join(dir, `hold-released-${generation ?? ""}`);

/** Lets the call held under the current plan go on. */
export function releaseHold(dir: string): void {
  writeAtomic(releaseFile(dir, readFaultPlan(dir).generation), new Date().toISOString());
}

export function readFaultPlan(dir: string): FaultPlan {
  return readJson<FaultPlan>(path.join(dir, FILE)) ?? {};
}

/** Replaces the plan (an empty object clears every fault). */
export function writeFaultPlan(dir: string, plan: FaultPlan): void {
  const generation = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
  writeAtomic(path.join(dir, FILE), JSON.stringify({ ...plan, generation }, null, 2));
}

/** An error that reads like the cloud API's, so the engine reports it as the real provider would. */
export class SimulatedApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "SimulatedApiError";
  }
}

/** Decides, per call, which fault applies; counting happens in the shared store. */
export class FaultInjector {
  constructor(private readonly store: CloudStore) {}

  plan(): FaultPlan {
    return readFaultPlan(this.store.dir);
  }

  async latency(plan: FaultPlan): Promise<void> {
    if (plan.latencyMs && plan.latencyMs > 0) await sleep(plan.latencyMs);
  }

  /** True when this call should be answered 429 (consumes one of the plan's throttled answers). */
  takeThrottle(plan: FaultPlan, type: string): boolean {
    const t = plan.throttle;
    if (!t || t.times <= 0 || (t.type && t.type !== type)) return false;
    // Count first, then compare, so concurrent processes share the budget exactly.
    const used = this.store.increment(`throttle:${plan.generation ?? ""}`);
    return used <= t.times;
  }

  /** Counts a create of `type` and returns its ordinal under the current plan. */
  countCreate(plan: FaultPlan, type: string): number {
    return this.store.increment(`create:${plan.generation ?? ""}:${type}`);
  }

  failureFor(plan: FaultPlan, type: string, ordinal: number): SimulatedApiError | undefined {
    const f = plan.failNthCreate;
    if (!f || f.type !== type || f.n !== ordinal) return undefined;
    return new SimulatedApiError(
      422,
      f.message ?? `sandbox: injected failure on create #${ordinal} of ${type}`,
    );
  }

  /** True when this call is the one the plan holds (counts calls of the held method across processes). */
  takeHold(plan: FaultPlan, method: string, type: string): boolean {
    const h = plan.hold;
    if (!h || h.method !== method || (h.type && h.type !== type)) return false;
    return this.store.increment(`hold:${plan.generation ?? ""}`) === (h.n ?? 1);
  }

  /** Waits for the test's release of the held call (or HOLD_LIMIT_MS). */
  async awaitRelease(plan: FaultPlan): Promise<void> {
    const file = releaseFile(this.store.dir, plan.generation);
    for (const until = Date.now() + HOLD_LIMIT_MS; Date.now() < until && !fs.existsSync(file);)
      await sleep(50);
  }

  crashFor(plan: FaultPlan, type: string, ordinal: number): "cloud-write" | "before-cloud-write" | undefined {
    const c = plan.crashOnCreate;
    if (!c || c.type !== type || (c.n ?? 1) !== ordinal) return undefined;
    return c.after ?? "cloud-write";
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
