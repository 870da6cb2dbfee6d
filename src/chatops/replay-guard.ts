import { createHash } from "node:crypto";
import type IORedis from "ioredis";
import { MAX_SKEW_SECONDS } from "./slack-signature";

const sha256 = (s: string | Buffer) => createHash("sha256").update(s).digest("hex");

/**
 * Refuses a signed request seen before. A signature is valid for the whole 5-minute window, so
 * without a nonce anyone who captured one request could send it again; the key lives exactly as
 * long as the window (one second more, for clocks at the edge) and `SET NX` makes the check atomic
 * across every API process sharing Redis.
 */
export class ReplayGuard {
  constructor(private readonly redis: IORedis) {}

  /** True the first time this signature is seen. */
  async firstUse(channel: "slack" | "hook", signature: string): Promise<boolean> {
    const ok = await this.redis.set(`stackyard:chat:nonce:${channel}:${sha256(signature)}`, "1", "EX", MAX_SKEW_SECONDS + 1, "NX");
    return ok === "OK";
  }

  /**
   * Slack re-sends a request it thinks timed out (`X-Slack-Retry-Num`) with a fresh timestamp and
   * signature but the same body (which carries a unique trigger_id): the retry must not run the
   * command twice. True when this body was not handled before.
   */
  async firstDelivery(rawBody: Buffer): Promise<boolean> {
    const ok = await this.redis.set(`stackyard:chat:body:${sha256(rawBody)}`, "1", "EX", 3600, "NX");
    return ok === "OK";
  }
}
