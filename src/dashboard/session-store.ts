import { randomBytes } from "node:crypto";
import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";

export const SESSION_COOKIE = "stackyard_session";
const key = redisKeys.dashboardSession;

/**
 * Dashboard sessions. A browser cannot send a bearer header on navigation, so logging in trades a
 * token for a random session id in an HttpOnly cookie. Redis keeps only the token's *id* under the
 * hash of the session id: neither the token nor a usable session id is ever stored, and the token's
 * current scopes are looked up on every request (a token removed from the config stops working).
 */
export class SessionStore {
  constructor(
    private readonly redis: IORedis,
    readonly ttlSeconds: number,
  ) {}

  async create(tokenId: string): Promise<string> {
    const sid = randomBytes(32).toString("base64url");
    await this.redis.set(key(sid), tokenId, "EX", this.ttlSeconds);
    return sid;
  }

  async tokenIdOf(sid: string): Promise<string | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(sid)) return undefined;
    return (await this.redis.get(key(sid))) ?? undefined;
  }

  async destroy(sid: string): Promise<void> {
    await this.redis.del(key(sid));
  }
}

/** The session id from a Cookie header, without a cookie library (one name, one value). */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? "").split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === SESSION_COOKIE) return rest.join("=");
  }
  return undefined;
}

export function sessionCookie(sid: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${sid}`,
    "Path=/dashboard",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ["Secure"] : []),
  ].join("; ");
}
