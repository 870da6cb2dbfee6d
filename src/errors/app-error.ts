import type { ErrorCode } from "./error-codes";

/**
 * The one error shape the service speaks. `code` is stable (clients and tests key on it) and is one
 * of `ERROR_CODES`, where the HTTP status it maps to lives (`statusOf`); `details` names the field,
 * rule, value or limit involved. The domain throws these; only src/api/ turns them into HTTP.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = this.constructor.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }

  toJSON(): { error: { code: ErrorCode; message: string; details: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** One field that failed validation: a dotted path and what was expected. */
export interface FieldIssue {
  field: string;
  message: string;
}
