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
