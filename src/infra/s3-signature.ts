import { createHash, createHmac } from "node:crypto";

/** A key pair that may sign requests to a bucket; never logged. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One request to sign: what AWS Signature V4 covers for S3. */
export interface S3RequestToSign {
  method: string;
  /** `host[:port]` as sent. */
  host: string;
  /** The path exactly as sent, each segment already encoded with {@link uriEncode}. */
  path: string;
  /** The query as sent: {@link canonicalQuery} of these pairs must be the URL's search. */
  query: Array<[string, string]>;
  /** Further headers to sign and send (lower-case names): every `x-amz-*`, content-type, content-md5. */
  headers: Record<string, string>;
  /** Hex SHA-256 of the body (`sha256Hex`), or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
  region: string;
  credentials: S3Credentials;
  now?: Date;
}

/**
 * The headers that sign one S3 request with AWS Signature V4 (the request's own signed headers,
 * plus `x-amz-date`, `x-amz-content-sha256` and `authorization`; `host` is left to the HTTP client).
 * Shared by stackyard's own S3 calls and the signing proxy the engine reaches the bucket through.
 */
export function signS3Request(r: S3RequestToSign): Record<string, string> {
  const amzDate = (r.now ?? new Date()).toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v.trim()])),
    host: r.host,
    "x-amz-content-sha256": r.payloadHash,
    "x-amz-date": amzDate,
  };
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const canonical = [
    r.method,
    r.path,
    canonicalQuery(r.query),
    ...names.map((h) => `${h}:${headers[h]}`),
    "",
    signedHeaders,
    r.payloadHash,
  ].join("\n");
  const scope = `${day}/${r.region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  let k: Buffer = hmac(`AWS4${r.credentials.secretAccessKey}`, day);
  for (const part of [r.region, "s3", "aws4_request"]) k = hmac(k, part);
  const signature = createHmac("sha256", k).update(toSign).digest("hex");
  const { host: _host, ...sent } = headers;
  return {
    ...sent,
    authorization: `AWS4-HMAC-SHA256 Credential=${r.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 wants. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The query in SigV4's canonical form (sorted by name, then value; both encoded), also the form to send. */
export function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
