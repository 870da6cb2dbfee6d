import * as path from "node:path";
import { S3Client } from "../infra/s3-client";

/** Key pair of the S3 store that holds the state; never logged. */
export interface BackendCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Where the engine keeps the stacks' state (PULUMI_BACKEND_URL): a folder (file://), a bucket
 * (s3://, AWS or an S3-compatible store) or Pulumi Cloud (https://).
 */
export type StateBackend =
  | { kind: "file"; url: string; dir: string }
  | {
      kind: "s3";
      url: string;
      bucket: string;
      /** Folder inside the bucket the state lives under (`s3://bucket/some/prefix`), "" for the root. */
      prefix: string;
      endpoint?: string;
      region: string;
      pathStyle: boolean;
      credentials: BackendCredentials;
    }
  | { kind: "cloud"; url: string };

export class BackendUrlError extends Error {}

/** The query options the engine's s3 driver (gocloud.dev s3blob v0.46, in pulumi v3.248.0) accepts. */
const S3_OPTIONS = new Set([
  "region",
  "endpoint",
  "s3ForcePathStyle",
  "use_path_style",
  "disable_https",
  "profile",
  "hostname_immutable",
  "dualstack",
  "fips",
  "rate_limiter_capacity",
  "request_checksum_calculation",
  "response_checksum_validation",
  "awssdk",
  "ssetype",
  "kmskeyid",
  "accelerate",
  "anonymous",
]);

/**
 * Reads PULUMI_BACKEND_URL. An s3:// URL must name its region (the bucket's location is not
 * looked up) and comes with the key pair of the store: ambient AWS credentials are blanked for
 * the engine (engine-env.ts), so the backend's are given on their own.
 */
export function parseBackendUrl(url: string, credentials?: BackendCredentials): StateBackend {
  if (url.startsWith("file://")) {
    const dir = url.slice("file://".length).replace(/\?.*$/, "");
    if (!path.isAbsolute(dir)) throw new BackendUrlError("a file:// backend needs an absolute path");
    return { kind: "file", url, dir };
  }
  if (url.startsWith("https://")) return { kind: "cloud", url };
  if (!url.startsWith("s3://"))
    throw new BackendUrlError("must start with file://, s3:// or https:// (Pulumi Cloud)");
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BackendUrlError("not a valid s3:// URL");
  }
  if (!u.hostname) throw new BackendUrlError("an s3:// URL names its bucket: s3://<bucket>?region=…");
  for (const k of u.searchParams.keys())
    if (!S3_OPTIONS.has(k))
      throw new BackendUrlError(`unknown s3:// option ${k} (the engine would refuse it)`);
  const region = u.searchParams.get("region");
  if (!region) throw new BackendUrlError("an s3:// URL needs region=<region>");
  let endpoint = u.searchParams.get("endpoint") ?? undefined;
  if (endpoint && !endpoint.includes("://"))
    endpoint = `${u.searchParams.get("disable_https") === "true" ? "http" : "https"}://${endpoint}`;
  if (!credentials)
    throw new BackendUrlError(
      "an s3:// backend needs STACKYARD_BACKEND_ACCESS_KEY_ID and STACKYARD_BACKEND_SECRET_ACCESS_KEY",
    );
  const truthy = (k: string) => ["true", "1"].includes(u.searchParams.get(k) ?? "");
  return {
    kind: "s3",
    url,
    bucket: u.hostname,
    prefix: decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, ""),
    endpoint,
    region,
    pathStyle: truthy("s3ForcePathStyle") || truthy("use_path_style"),
    credentials,
  };
}

/** Options of the service's s3:// URL that still mean something when the engine talks to the signing proxy. */
const KEPT_FOR_PROXY = [
  "ssetype",
  "kmskeyid",
  "rate_limiter_capacity",
  "request_checksum_calculation",
  "response_checksum_validation",
];

/**
 * The s3:// URL the engine is given when it reaches the bucket through the service's signing
 * proxy (`src/infra/s3-signing-proxy.ts`): the proxy's loopback endpoint, path-style, and
 * `anonymous=true` (gocloud.dev s3blob's option for unsigned requests), so the engine needs no key
 * at all. Options that choose another endpoint or credentials (profile, fips, dualstack,
 * accelerate, hostname_immutable) are the proxy's business and are dropped.
 */
export function proxiedBackendUrl(b: Extract<StateBackend, { kind: "s3" }>, proxyEndpoint: string): string {
  const original = new URL(b.url);
  const q = new URLSearchParams();
  q.set("region", b.region);
  q.set("endpoint", proxyEndpoint);
  q.set("s3ForcePathStyle", "true");
  q.set("anonymous", "true");
  for (const k of KEPT_FOR_PROXY) {
    const v = original.searchParams.get(k);
    if (v !== null) q.set(k, v);
  }
  return `s3://${b.bucket}${b.prefix ? `/${b.prefix.split("/").map(encodeURIComponent).join("/")}` : ""}?${q}`;
}

/** The default backend: a folder on this machine. */
export function fileBackend(dir: string): StateBackend {
  return { kind: "file", url: `file://${dir}`, dir };
}

/** A client for the backend's bucket, for what stackyard reads and writes there itself. */
export function backendBucket(b: Extract<StateBackend, { kind: "s3" }>): S3Client {
  return new S3Client({
    bucket: b.bucket,
    endpoint: b.endpoint,
    region: b.region,
    pathStyle: b.pathStyle,
    credentials: b.credentials,
  });
}
