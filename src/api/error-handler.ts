import type { NextFunction, Request, Response } from "express";
import {
  AppError,
  MalformedBodyError,
  MalformedJsonError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  statusOf,
  UnsupportedCharsetError,
  UnsupportedEncodingError,
} from "../errors";
import type { Logger } from "../infra/observability/logger";

/**
 * Errors from ioredis when Redis is down or refuses writes (NOREPLICAS: a primary running
 * `min-replicas-to-write` that lost its replicas): the API answers 503 and keeps nothing.
 */
function isRedisDown(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string; previousErrors?: unknown[] };
  return (
    e?.name === "MaxRetriesPerRequestError" ||
    // A MULTI that Redis discarded (EXECABORT) because it refused the queued writes.
    (Array.isArray(e?.previousErrors) && e.previousErrors.some(isRedisDown)) ||
    e?.code === "ECONNREFUSED" ||
    /enableOfflineQueue|Connection is closed|Stream isn't writeable|MISCONF|READONLY|NOREPLICAS|OOM command not allowed/.test(
      e?.message ?? "",
    )
  );
}

/** What a body parser (body-parser, via http-errors) says about a body it could not read. */
interface BodyReadError {
  type?: string;
  status?: number;
  expose?: boolean;
  charset?: string;
  encoding?: string;
  code?: string;
}

/** A client's body the parser refused: never a 500. Undefined for anything else. */
function fromBodyParser(e: BodyReadError, bodyLimitBytes: number): AppError | undefined {
  switch (e.type) {
    case "entity.too.large":
      return new PayloadTooLargeError(bodyLimitBytes);
    case "entity.parse.failed":
      return new MalformedJsonError();
    case "charset.unsupported":
      return new UnsupportedCharsetError(e.charset);
    case "encoding.unsupported":
      return new UnsupportedEncodingError(e.encoding);
    case "request.aborted":
      return new MalformedBodyError("the upload was aborted");
    case "request.size.invalid":
      return new MalformedBodyError("its length does not match Content-Length");
  }
  // A decompression error (broken gzip/deflate/br) reaches us with the parser's status 400 and zlib's code.
  if (typeof e.code === "string" && /^(Z_|ERR_BROTLI|ERR__ERROR)/.test(e.code))
    return new MalformedBodyError("the compressed body is corrupt");
  if (e.expose === true && typeof e.status === "number" && e.status >= 400 && e.status < 500) {
    return e.status === 413
      ? new PayloadTooLargeError(bodyLimitBytes)
      : new MalformedBodyError("the parser refused it");
  }
  return undefined;
}

/** Maps any error to `{ error: { code, message, details } }`; never a stack trace, never engine stderr. */
export function toAppError(err: unknown, bodyLimitBytes: number): AppError {
  if (err instanceof AppError) return err;
  const fromBody =
    err && typeof err === "object" ? fromBodyParser(err as BodyReadError, bodyLimitBytes) : undefined;
  if (fromBody) return fromBody;
  if (isRedisDown(err)) return new ServiceUnavailableError();
  return new AppError("INTERNAL", "internal error; see the service log");
}

export function errorHandler(logger: Logger, bodyLimitBytes: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const app = toAppError(err, bodyLimitBytes);
    const status = statusOf(app.code);
    const fields = {
      code: app.code,
      status,
      method: req.method,
      path: req.path,
      tokenId: req.principal?.tokenId,
    };
    if (status >= 500) logger.error("request failed", { ...fields, err });
    else logger.info("request refused", fields);
    if (res.headersSent) return void res.end();
    const retryAfter = app.details.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === "number") res.set("Retry-After", String(retryAfter));
    res.status(status).json(app.toJSON());
  };
}
