import * as fs from "node:fs";
import * as path from "node:path";

// The append-only record of every call the simulated clouds answered. It proves ordering facts
// across processes (e.g. never two updates of one stack at once), so each call logs a `start` and
// an `end` (or `error`) line with wall-clock timestamps. It carries types, URNs and ids only:
// never input values, so no secret can reach it. Which credentials a provider was configured with
// appear as short digests (site-credentials.ts), enough to tell accounts apart, never the value.

export type CallPhase = "start" | "end" | "error" | "throttled" | "fault" | "crash" | "held";

export interface CallEntry {
  ts: string;
  pid: number;
  package: string;
  method: string;
  phase: CallPhase;
  type?: string;
  urn?: string;
  id?: string;
  stack?: string;
  /** Milliseconds since the matching start, on end/error lines. */
  ms?: number;
  /** Error text on error/fault lines (written by the provider, never containing inputs). */
  message?: string;
  /** Credential field → digest of the value, as the provider was configured (absent: none). */
  credentials?: Record<string, string>;
  /** On configure lines: credential variables set in the plugin's environment (names only). */
  ambient?: string[];
}

export const CALL_LOG_FILE = "calls.jsonl";

export function appendCall(dir: string, entry: Omit<CallEntry, "ts" | "pid">): void {
  const line: CallEntry = { ts: new Date().toISOString(), pid: process.pid, ...entry };
  // One write per line with O_APPEND: concurrent writers never interleave within a line.
  fs.appendFileSync(path.join(dir, CALL_LOG_FILE), JSON.stringify(line) + "\n");
}

export function readCalls(dir: string): CallEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, CALL_LOG_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as CallEntry);
}
