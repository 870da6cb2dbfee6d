/**
 * Keys whose values are never written anywhere: tokens, passphrases, secrets, credentials. A key
 * that only names a principal (`tokenId`, `token_id`, `tokenIds`) is not a secret: logs must say who.
 */
const SECRET_KEY =
  /(authorization|token|passphrase|password|passwd|secret|private[_-]?key|access[_-]?key|api[_-]?key|cookie|credential|signature)/i;
const PRINCIPAL_KEY = /token[_-]?ids?$/i;
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/g;
/** The password part of a URL's userinfo (`redis://:<pw>@host`, `rediss://user:<pw>@host`). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^@/\s]+@/gi;

export const REDACTED = "[redacted]";

/** True for a field name whose value is a secret (and not merely the id of who holds one). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !PRINCIPAL_KEY.test(key);
}

/**
 * A deep copy with secret fields replaced, bearer tokens masked in strings, and every string
 * listed in `known` (the passphrase, configured secrets) masked wherever it appears, under any
 * key, principal ids included: a secret is masked by its value, whatever field it sits in.
 */
export function redact(value: unknown, known: readonly string[] = [], depth = 0): unknown {
  if (depth > 12) return "[too deep]";
  if (typeof value === "string") return maskString(value, known);
  if (Array.isArray(value)) return value.map((v) => redact(v, known, depth + 1));
  if (value instanceof Error) return { name: value.name, message: maskString(value.message, known) };
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      out[k] =
        isSecretKey(k) && v !== undefined && typeof v !== "boolean" ? REDACTED : redact(v, known, depth + 1);
    return out;
  }
  return value;
}

function maskString(s: string, known: readonly string[]): string {
  let out = s.replace(BEARER, `Bearer ${REDACTED}`);
  out = out.replace(URL_PASSWORD, `$1${REDACTED}@`);
  for (const k of known) if (k.length >= 4) out = out.split(k).join(REDACTED);
  return out;
}

/**
 * Stack outputs as the engine returns them: `{ name: { value, secret } }`. Secret ones are
 * replaced before they reach the ledger, an HTTP body or a log line.
 */
export function redactOutputs(
  outputs: Record<string, { value: unknown; secret: boolean }>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(outputs)) out[k] = o.secret ? REDACTED : redact(o.value);
  return out;
}
