import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The signing scheme Slack uses and our generic webhook shares: `<version>=` + hex HMAC-SHA256 of
 * `<version>:<timestamp>:<raw body>`. The version tag differs per channel, so a signature made
 * for one can never pass on the other.
 */

/**
 * Requests older (or newer) than this are refused, as Slack recommends. A signature therefore
 * verifies for up to twice this long; replay-guard.ts keeps its nonce at least that long.
 */
export const MAX_SKEW_SECONDS = 300;

export type SignatureVerdict =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "missing-headers" | "bad-timestamp" | "stale" | "bad-signature" };

export function requestSignature(
  version: string,
  secret: string,
  timestamp: string,
  rawBody: Buffer | string,
): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${version}:${timestamp}:`);
  mac.update(rawBody);
  return `${version}=${mac.digest("hex")}`;
}

/**
 * Verifies one request. The comparison is constant-time and never throws on a signature of the
 * wrong length (which `timingSafeEqual` would). Replays inside the window are the caller's to
 * refuse (see replay-guard.ts): a valid signature alone does not make a request new.
 */
export function verifyRequestSignature(
  version: string,
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: Buffer,
  nowSeconds: number,
): SignatureVerdict {
  if (!headers.timestamp || !headers.signature) return { ok: false, reason: "missing-headers" };
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, reason: "bad-timestamp" };
  const ts = Number(headers.timestamp);
  if (Math.abs(nowSeconds - ts) > MAX_SKEW_SECONDS) return { ok: false, reason: "stale" };
  const expected = Buffer.from(requestSignature(version, secret, headers.timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: "bad-signature" };
  }
  return { ok: true, timestamp: ts };
}
