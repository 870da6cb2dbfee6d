import { createHash } from "node:crypto";
import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import { MAX_SKEW_SECONDS } from "./slack-signature";

const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

/**
 * How long a signature's nonce is kept: a signature is accepted while its timestamp is within
 * MAX_SKEW_SECONDS of the clock, either way, so one first seen now (its timestamp up to that far in
 * the future) can stay valid for up to twice the skew from now. One second more, for clocks at the edge.
 */
export const NONCE_TTL_SECONDS = 2 * MAX_SKEW_SECONDS + 1;

/**
 * Refuses a signed request seen before. A signature is valid for its whole window, so without a
 * nonce anyone who captured one request could send it again; the key outlives every moment the
 * signature could still verify (NONCE_TTL_SECONDS) and `SET NX` makes the check atomic across
 * every API process sharing Redis.
 */
export class ReplayGuard {
  constructor(private readonly redis: IORedis) {}

  /** True the first time this signature is seen. */
  async firstUse(channel: "slack" | "hook", signature: string): Promise<boolean> {
    const ok = await this.redis.set(
      redisKeys.chatNonce(channel, sha256(signature)),
      "1",
      "EX",
      NONCE_TTL_SECONDS,
      "NX",
    );
    return ok === "OK";
  }

  /**
   * Slack re-sends a request it thinks timed out (`X-Slack-Retry-Num`) with a fresh timestamp and
   * signature but the same body (which carries a unique trigger_id): the retry must not run the
   * command twice. True when this body was not handled before.
   */
  async firstDelivery(rawBody: Buffer): Promise<boolean> {
    const ok = await this.redis.set(redisKeys.chatBody(sha256(rawBody)), "1", "EX", 3600, "NX");
    return ok === "OK";
  }
}
