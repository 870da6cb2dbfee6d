import type { z } from "zod";

/**
 * Raised when stack config is invalid. The message always names the full config key path
 * (`stackyard:spec.sidekiq.pools.main.count`) and the offending value, so an operator reading a
 * failed `pulumi preview` or an API 422 knows exactly which line of `stacks/Pulumi.<stack>.yaml` to fix.
 */
export class SiteConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(
    message: string,
    /** Every problem found, each `key: reason, got value`. */
    readonly problems: readonly string[] = [message],
  ) {
    super(message);
    this.name = "SiteConfigError";
  }
}

/** `spec.sidekiq.pools.main.count`, `spec.externals[2].kind`. */
export function keyPath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const seg of path) {
    out += typeof seg === "number" ? `[${seg}]` : `.${String(seg)}`;
  }
  return out;
}

/** Walks `path` into the raw input so the message can show what the operator actually wrote. */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

export function showValue(v: unknown): string {
  if (v === undefined) return "nothing (key missing)";
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "array" || issue.origin === "set")
        return `expected at least ${issue.minimum} item(s)`;
      if (issue.origin === "string") return `expected at least ${issue.minimum} character(s)`;
      return `expected ${issue.inclusive === false ? ">" : ">="} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "array" || issue.origin === "set")
        return `expected at most ${issue.maximum} item(s)`;
      if (issue.origin === "string") return `expected at most ${issue.maximum} character(s)`;
      return `expected ${issue.inclusive === false ? "<" : "<="} ${issue.maximum}`;
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "unrecognized_keys":
      return `unknown key(s) ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "invalid_format":
      return `expected ${issue.format}${issue.message ? ` (${issue.message})` : ""}`;
    default:
      return issue.message;
  }
}

/**
 * Turns zod issues into one error. `root` is the config key the parsed object came from
 * (`stackyard:spec`), `raw` the unparsed object, so each line reads
 * `stackyard:spec.sidekiq.pools.main.count: expected >= 1, got -2`.
 */
export function toConfigError(
  root: string,
  raw: unknown,
  issues: readonly z.core.$ZodIssue[],
): SiteConfigError {
  const problems = issues.map((issue) => {
    const path = issue.path as PropertyKey[];
    // For unknown keys the path names the parent; show the key itself instead of the whole object.
    if (issue.code === "unrecognized_keys") {
      return `${keyPath(root, [...path, issue.keys[0]!])}: ${describe(issue)}`;
    }
    return `${keyPath(root, path)}: ${describe(issue)}, got ${showValue(valueAt(raw, path))}`;
  });
  const head =
    problems.length === 1 ? problems[0]! : `${problems.length} config problems: ${problems.join("; ")}`;
  return new SiteConfigError(head, problems);
}
