import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The per-session token a dashboard form carries (synchronizer token, bound to the session): an
 * HMAC of a fixed label keyed by the session id. Only a holder of the session id (an HttpOnly
 * cookie, never readable by a page of another site) can compute it, and the token does not give
 * the session id away, so it can sit in the page's HTML. Nothing is stored: a new session has a
 * new token, and logging out voids it. Checked together with the Origin check (same-origin.ts).
 */
export function formToken(sessionId: string): string {
  return createHmac("sha256", sessionId).update("stackyard dashboard form v1").digest("base64url");
}

/** Whether `given` is this session's form token (constant-time). */
export function validFormToken(sessionId: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const want = Buffer.from(formToken(sessionId));
  const got = Buffer.from(given);
  return want.length === got.length && timingSafeEqual(want, got);
}
