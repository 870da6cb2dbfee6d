import { createHmac, timingSafeEqual } from "node:crypto";
import { MAX_SKEW_SECONDS, type SignatureVerdict } from "./slack-signature";

/**
 * The generic chat webhook's signing (for bots that are not Slack: Mattermost, Discord relays):
 * `X-Stackyard-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<raw body>">` with
 * `X-Stackyard-Timestamp: <unix seconds>`. Same construction and window as Slack's, its own version
 * tag so a Slack signature can never pass here or the other way round.
 */
export function webhookSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = createHmac("sha256", secret);
  mac.update(`v1:${timestamp}:`);
  mac.update(rawBody);
  return `v1=${mac.digest("hex")}`;
}

export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: Buffer,
  nowSeconds: number,
): SignatureVerdict {
  if (!headers.timestamp || !headers.signature) return { ok: false, reason: "missing-headers" };
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, reason: "bad-timestamp" };
  const ts = Number(headers.timestamp);
  if (Math.abs(nowSeconds - ts) > MAX_SKEW_SECONDS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(webhookSignature(secret, headers.timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: "bad-signature" };
  return { ok: true, timestamp: ts };
}
