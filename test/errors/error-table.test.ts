import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as errors from "../../src/errors";
import { AppError, ERROR_CODE_LIST, ERROR_CODES, type ErrorCode } from "../../src/errors";
import { errorDocsBlockIn, renderErrorDocs, withErrorDocs } from "../../src/errors/error-docs";
import { projectRoot } from "../../src/infra/paths";
import * as liveFacts from "../../src/operations/live-facts";
import * as scheduleErrors from "../../src/schedules/schedule-errors";

/** Every module that declares an AppError subclass, by its path under the repository. */
const ERROR_MODULES: Record<string, Record<string, unknown>> = {
  "src/errors/app-error.ts": errors,
  "src/errors/request-errors.ts": errors,
  "src/errors/domain-errors.ts": errors,
  "src/errors/approval-errors.ts": errors,
  "src/operations/live-facts.ts": liveFacts,
  "src/schedules/schedule-errors.ts": scheduleErrors,
};

/** One instance of each error class, built as its callers build it. */
const INSTANCES: Record<string, () => AppError> = {
  ValidationError: () => new errors.ValidationError([{ field: "site", message: "a site id" }]),
  UnauthenticatedError: () => new errors.UnauthenticatedError(),
  ForbiddenError: () => new errors.ForbiddenError("t", { scope: "operations:write" }),
  NotFoundError: () => new errors.NotFoundError("SITE_NOT_FOUND", "no site"),
  PayloadTooLargeError: () => new errors.PayloadTooLargeError(1024),
  UnsupportedMediaTypeError: () => new errors.UnsupportedMediaTypeError("text/plain"),
  MalformedJsonError: () => new errors.MalformedJsonError(),
  UnsupportedCharsetError: () => new errors.UnsupportedCharsetError("latin1"),
  UnsupportedEncodingError: () => new errors.UnsupportedEncodingError("zstd"),
  MalformedBodyError: () => new errors.MalformedBodyError("aborted"),
  IdempotencyMismatchError: () => new errors.IdempotencyMismatchError("k", "op-1"),
  OperationFinishedError: () => new errors.OperationFinishedError("op-1", "succeeded"),
  ServiceUnavailableError: () => new errors.ServiceUnavailableError(),
  NotReplicatedError: () => new errors.NotReplicatedError("op-1", { acked: 0, wanted: 1, timeoutMs: 1000 }),
  RateLimitedError: () => new errors.RateLimitedError("t", { requests: 10, windowSeconds: 60 }, 5),
  TooManyStreamsError: () => new errors.TooManyStreamsError("t", 10),
  MethodNotAllowedError: () => new errors.MethodNotAllowedError("PUT", "/v1/sites", ["GET"]),
  OperationUnsupportedError: () =>
    new errors.OperationUnsupportedError("insync", "scale-sidekiq", "no sidekiq"),
  GuardRefusedError: () => new errors.GuardRefusedError("rule", "refused"),
  StackConfigInvalidError: () => new errors.StackConfigInvalidError("theatl", ["bad"]),
  BlastRadiusError: () =>
    new errors.BlastRadiusError("scale-sidekiq", [{ op: "delete", type: "t", urn: "u" }]),
  StaleConfigRevisionError: () => new errors.StaleConfigRevisionError("theatl", 1, 2),
  RecoveryRefusedError: () => new errors.RecoveryRefusedError("needs a human"),
  PolicyViolationError: () => new errors.PolicyViolationError([{ rule: "r", message: "m" }]),
  SelfApprovalError: () => new errors.SelfApprovalError("op-1", "t"),
  ApprovalExpiredError: () => new errors.ApprovalExpiredError("op-1", "2020-01-01T00:00:00Z"),
  NotAwaitingApprovalError: () => new errors.NotAwaitingApprovalError("op-1", "queued"),
  LiveFactsNotImplementedError: () => new liveFacts.LiveFactsNotImplementedError("insync", "replication lag"),
  LiveFactsNotConfiguredError: () => new liveFacts.LiveFactsNotConfiguredError("theatl"),
  ScheduleNotFoundError: () => new scheduleErrors.ScheduleNotFoundError("theatl", "s-1"),
  SchedulesDisabledError: () => new scheduleErrors.SchedulesDisabledError(),
  ScheduleLimitError: () => new scheduleErrors.ScheduleLimitError("theatl", 20),
  ScheduleCreatorUnauthorizedError: () =>
    new scheduleErrors.ScheduleCreatorUnauthorizedError("s-1", "t", "token gone"),
};

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const isErrorClass = (v: unknown): v is typeof AppError =>
  typeof v === "function" && v.prototype instanceof AppError;

describe("the error table", () => {
  const docsFile = path.join(projectRoot, "docs", "api.md");

  it("is what docs/api.md shows between its error-codes markers (npm run docs:errors rewrites it)", () => {
    const doc = fs.readFileSync(docsFile, "utf8");
    const { start, end } = errorDocsBlockIn(doc);
    assert.equal(doc.slice(start, end), renderErrorDocs(), "docs/api.md is stale: run npm run docs:errors");
    assert.equal(withErrorDocs(doc), doc);
  });

  it("refuses to render into a document without one pair of markers", () => {
    assert.throws(() => withErrorDocs("# no markers\n"), /error-codes:start/);
    assert.throws(() => withErrorDocs(`${renderErrorDocs()}\n${renderErrorDocs()}`), /error-codes:start/);
  });

  it("holds the code of every error class the service declares", () => {
    const declaring = sourceFiles(path.join(projectRoot, "src"))
      .filter((f) => /\bextends AppError\b/.test(fs.readFileSync(f, "utf8")))
      .map((f) => path.relative(projectRoot, f).split(path.sep).join("/"))
      .sort();
    assert.deepEqual(
      declaring,
      Object.keys(ERROR_MODULES)
        .filter((m) => m !== "src/errors/app-error.ts")
        .sort(),
      "a module declares an AppError subclass this test does not import",
    );
    const classes = new Set(
      Object.values(ERROR_MODULES).flatMap((m) =>
        Object.values(m)
          .filter(isErrorClass)
          .map((c) => c.name),
      ),
    );
    assert.deepEqual(
      [...classes].sort(),
      Object.keys(INSTANCES).sort(),
      "every error class has an instance here",
    );
    for (const [name, make] of Object.entries(INSTANCES)) {
      const e = make();
      assert.equal(e.constructor.name, name);
      const code: ErrorCode = e.code;
      assert.ok(code in ERROR_CODES, `${name}: ${code}`);
      assert.deepEqual(e.toJSON(), { error: { code, message: e.message, details: e.details } });
      assert.equal("status" in e, false, `${name} carries no status of its own`);
    }
  });

  it("answers every code with a 4xx or 5xx status and describes it in one sentence", () => {
    for (const code of ERROR_CODE_LIST) {
      const { status, description } = ERROR_CODES[code];
      assert.match(code, /^[A-Z]+(_[A-Z]+)*$/);
      assert.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code}: ${status}`);
      assert.match(description, /^[A-Z`].*\.$/s, `${code}: a sentence`);
      assert.doesNotMatch(description, /\n|\.\s+[A-Z]/, `${code}: one sentence`);
    }
  });
});
