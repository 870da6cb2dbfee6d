import { createHash } from "node:crypto";

/**
 * What the call log records of a credential: a short digest, enough to tell two accounts apart
 * and never enough to recover the value. Its own module, so a plugin process that only logs
 * fingerprints loads none of the site programs.
 */
export function credentialFingerprint(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}
