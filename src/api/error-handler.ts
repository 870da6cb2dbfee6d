import type { NextFunction, Request, Response } from "express";
import {
  AppError,
  MalformedJsonError,
  PayloadTooLargeError,
  ServiceUnavailableError,
} from "../errors";
import type { Logger } from "../service/logger";

/** Errors from ioredis when Redis is down or refuses writes: the API answers 503 and keeps nothing. */
function isRedisDown(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: string };
  return (
    e?.name === "MaxRetriesPerRequestError" ||
    e?.code === "ECONNREFUSED" ||
    /enableOfflineQueue|Connection is closed|Stream isn't writeable|MISCONF|READONLY|OOM command not allowed/.test(e?.message ?? "")
  );
}

/** Maps any error to `{ error: { code, message, details } }`; never a stack trace, never engine stderr. */
export function toAppError(err: unknown, bodyLimitBytes: number): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number };
  if (e?.type === "entity.too.large") return new PayloadTooLargeError(bodyLimitBytes);
  if (e?.type === "entity.parse.failed") return new MalformedJsonError();
  if (isRedisDown(err)) return new ServiceUnavailableError();
  return new AppError("INTERNAL", 500, "internal error; see the service log");
}

export function errorHandler(logger: Logger, bodyLimitBytes: number) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const app = toAppError(err, bodyLimitBytes);
    const fields = { code: app.code, status: app.status, method: req.method, path: req.path, tokenId: req.principal?.tokenId };
    if (app.status >= 500) logger.error("request failed", { ...fields, err });
    else logger.info("request refused", fields);
    if (res.headersSent) return void res.end();
    res.status(app.status).json(app.toJSON());
  };
}
