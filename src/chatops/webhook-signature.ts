import { requestSignature, verifyRequestSignature, type SignatureVerdict } from "./signed-request";

/**
 * The generic chat webhook's signing (for bots that are not Slack: Mattermost, Discord relays):
 * `X-Stackyard-Signature: v1=<hex HMAC-SHA256 of "v1:<timestamp>:<raw body>">` with
 * `X-Stackyard-Timestamp: <unix seconds>`. Same construction and window as Slack's, its own version
 * tag so a Slack signature can never pass here or the other way round.
 */
const WEBHOOK_VERSION = "v1";

export function webhookSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return requestSignature(WEBHOOK_VERSION, secret, timestamp, rawBody);
}

export function verifyWebhookSignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: Buffer,
  nowSeconds: number,
): SignatureVerdict {
  return verifyRequestSignature(WEBHOOK_VERSION, secret, headers, rawBody, nowSeconds);
}
