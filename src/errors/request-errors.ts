import { AppError, FieldIssue } from "./app-error";

/** Input did not match the schema; `details.issues` names every offending field. */
export class ValidationError extends AppError {
  constructor(issues: FieldIssue[], where = "body") {
    const head = issues[0] ? `${issues[0].field}: ${issues[0].message}` : "invalid input";
    super("VALIDATION_FAILED", `invalid ${where}: ${head}`, { where, issues, field: issues[0]?.field });
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = "a bearer token is required") {
    super("UNAUTHENTICATED", message);
  }
}

export class ForbiddenError extends AppError {
  constructor(tokenId: string, needed: { scope: string; site?: string; operation?: string }) {
    const what = [
      needed.scope,
      needed.site && `site ${needed.site}`,
      needed.operation && `operation ${needed.operation}`,
    ]
      .filter(Boolean)
      .join(", ");
    super("FORBIDDEN", `token ${tokenId} is not allowed: ${what}`, { tokenId, ...needed });
  }
}

export class NotFoundError extends AppError {
  constructor(
    code: "SITE_NOT_FOUND" | "OPERATION_NOT_FOUND" | "ROUTE_NOT_FOUND",
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super("PAYLOAD_TOO_LARGE", `request body exceeds ${limitBytes} bytes`, {
      limitBytes,
      field: "body",
    });
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(got: string | undefined) {
    super("UNSUPPORTED_MEDIA_TYPE", "send the body as application/json", {
      got: got ?? null,
      field: "content-type",
    });
  }
}

export class MalformedJsonError extends AppError {
  constructor() {
    super("MALFORMED_JSON", "the body is not valid JSON", { field: "body" });
  }
}

/** The body's charset is not one the JSON parser reads (it reads utf-8). */
export class UnsupportedCharsetError extends AppError {
  constructor(charset: string | undefined) {
    super(
      "UNSUPPORTED_CHARSET",
      `unsupported charset ${JSON.stringify(charset ?? "")}; send the body as utf-8`,
      { got: charset ?? null, field: "content-type" },
    );
  }
}

/** A Content-Encoding other than gzip, deflate, br or identity. */
export class UnsupportedEncodingError extends AppError {
  constructor(encoding: string | undefined) {
    super(
      "UNSUPPORTED_ENCODING",
      `unsupported Content-Encoding ${JSON.stringify(encoding ?? "")}; use gzip, deflate, br or identity`,
      {
        got: encoding ?? null,
        field: "content-encoding",
      },
    );
  }
}

/** The body could not be read as sent: a broken compressed stream, a length that does not match, an aborted upload. */
export class MalformedBodyError extends AppError {
  constructor(reason: string) {
    super("MALFORMED_BODY", `the body could not be read: ${reason}`, { field: "body", reason });
  }
}

/** The same Idempotency-Key was sent with a different request. */
export class IdempotencyMismatchError extends AppError {
  constructor(key: string, operationId: string) {
    super(
      "IDEMPOTENCY_KEY_REUSED",
      `Idempotency-Key "${key}" was first used for a different request (operation ${operationId})`,
      {
        field: "Idempotency-Key",
        operationId,
      },
    );
  }
}

/** Cancel of an operation that already ended. */
export class OperationFinishedError extends AppError {
  constructor(id: string, status: string) {
    super("OPERATION_FINISHED", `operation ${id} already ended (${status})`, { id, status });
  }
}

/** Redis is down or refused a write: the API accepts nothing it cannot keep. */
export class ServiceUnavailableError extends AppError {
  constructor(message = "the queue store is unavailable; nothing was accepted, retry later") {
    super("SERVICE_UNAVAILABLE", message);
  }
}

/**
 * Redis WAIT saw fewer replicas than required acknowledge the request's writes: it is not accepted
 * (a failover now could lose it). Nothing is queued; a record already written (`operationId`) ends failed.
 */
export class NotReplicatedError extends AppError {
  constructor(operationId: string | undefined, ack: { acked: number; wanted: number; timeoutMs: number }) {
    super(
      "NOT_REPLICATED",
      `not accepted: Redis confirmed ${operationId ? "the operation" : "its writes"} on ${ack.acked} of ${ack.wanted} replica(s) within ${ack.timeoutMs} ms; nothing was queued, retry later`,
      { ...(operationId ? { operationId } : {}), ...ack },
    );
  }
}

/** A token spent its request budget; `details.retryAfterSeconds` is also sent as `Retry-After`. */
export class RateLimitedError extends AppError {
  constructor(
    tokenId: string,
    limit: { requests: number; windowSeconds: number },
    retryAfterSeconds: number,
  ) {
    super(
      "RATE_LIMITED",
      `token ${tokenId} sent more than ${limit.requests} requests in ${limit.windowSeconds} s; retry after ${retryAfterSeconds} s`,
      { tokenId, limit: limit.requests, windowSeconds: limit.windowSeconds, retryAfterSeconds },
    );
  }
}

/** A token already holds as many event streams as it may; `Retry-After` says when to try again. */
export class TooManyStreamsError extends AppError {
  constructor(tokenId: string, limit: number) {
    super(
      "TOO_MANY_STREAMS",
      `token ${tokenId} already has ${limit} event streams open (the limit); close one first`,
      {
        tokenId,
        limit,
        retryAfterSeconds: 5,
      },
    );
  }
}

/** A known path asked with a method it does not answer; the `Allow` header lists those it does. */
export class MethodNotAllowedError extends AppError {
  constructor(method: string, path: string, allow: readonly string[]) {
    super("METHOD_NOT_ALLOWED", `${path} does not answer ${method}; it answers ${allow.join(", ")}`, {
      method,
      allow,
      field: "method",
    });
  }
}
