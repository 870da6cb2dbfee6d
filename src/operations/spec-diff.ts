import type { PlannedChange } from "./types";

/** The leaf paths where two specs differ, so a plan can say exactly which knobs it turns. */
export function specDiff(before: unknown, after: unknown, at = ""): PlannedChange[] {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => specDiff(before[k], after[k], at ? `${at}.${k}` : k));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ path: at, from: before ?? null, to: after ?? null }];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
