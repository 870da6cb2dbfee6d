import { GitRemoteError } from "../operations/git-remote";
import { AppError, type FailureCode } from "../errors";
import { redact } from "../infra/observability/redact";

/**
 * A short, secret-free reason for the ledger. Engine failures (CommandError) carry the CLI's whole
 * stdout/stderr; keep only its `error:` lines, which name the resource and the provider's answer.
 */
export function failureReason(
  err: unknown,
  secrets: readonly string[],
): { code: FailureCode; reason: string } {
  if (err instanceof AppError) return { code: err.code, reason: String(redact(err.message, secrets)) };
  if (err instanceof GitRemoteError)
    return { code: "GIT_REMOTE_FAILED", reason: String(redact(err.message, secrets)).slice(0, 1500) };
  const text = err instanceof Error ? err.message : String(err);
  const errorLines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^error:|^\s*error:|failed|refusing/i.test(l) && !/^stdout:|^stderr:$/.test(l));
  const picked =
    errorLines.length > 0
      ? [...new Set(errorLines)].slice(0, 6).join(" | ")
      : (text.split("\n")[0] ?? "unknown error");
  return { code: "ENGINE_FAILED", reason: String(redact(picked, secrets)).slice(0, 1500) };
}
