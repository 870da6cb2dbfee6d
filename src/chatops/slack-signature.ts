import { requestSignature, verifyRequestSignature, type SignatureVerdict } from "./signed-request";

export { MAX_SKEW_SECONDS, type SignatureVerdict } from "./signed-request";

/** Slack's request signing uses version `v0`. */
export const SIGNATURE_VERSION = "v0";

export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return requestSignature(SIGNATURE_VERSION, secret, timestamp, rawBody);
}

export function verifySlackSignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  rawBody: Buffer,
  nowSeconds: number,
): SignatureVerdict {
  return verifyRequestSignature(SIGNATURE_VERSION, secret, headers, rawBody, nowSeconds);
}
