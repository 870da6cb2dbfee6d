import { randomBytes, timingSafeEqual } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { s3ObjectUrl, type S3Bucket } from "./s3-client";
import { sha256Hex, signS3Request } from "./s3-signature";

/** What the proxy serves: one bucket (and the key pair that signs for it), and the folder in it. */
export interface S3SigningProxyOptions {
  target: S3Bucket;
  /**
   * Only keys under this folder are served (`""`: the whole bucket).
   * @defaultValue ""
   */
  prefix?: string;
  /**
   * Largest request body accepted, in bytes (a state checkpoint is written whole).
   * @defaultValue 256 MiB
   */
  maxBodyBytes?: number;
}

/** A running proxy. */
export interface S3SigningProxy {
  /**
   * `http://127.0.0.1:<port>/<token>`: the S3 endpoint to hand a client that sends unsigned,
   * path-style requests (the engine's s3blob driver with `anonymous=true&s3ForcePathStyle=true`).
   */
  endpoint: string;
  /** Requests refused so far (wrong token, bucket, folder or method), for tests and logs. */
  refused(): number;
  close(): Promise<void>;
}

/** Headers of the client's request that reach the store (the `x-amz-*` ones are signed too). */
const PASSED_HEADERS = new Set([
  "content-type",
  "content-md5",
  "content-encoding",
  "content-language",
  "content-disposition",
  "cache-control",
  "expires",
  "range",
  "if-match",
  "if-none-match",
  "if-modified-since",
  "if-unmodified-since",
]);
/** Signed as well: S3 checks these against the body or the stored object's metadata. */
const SIGNED_PLAIN_HEADERS = new Set(["content-type", "content-md5"]);
/** Set by the proxy's own signature, never taken from the client. */
const OWN_AMZ_HEADERS = new Set(["x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]);
/** Hop-by-hop headers of the store's answer that are not the client's business. */
const HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade"]);

/**
 * A loopback HTTP server that re-signs S3 requests with the key pair only this process holds,
 * so a child process (the Pulumi CLI, which starts every plugin with its whole environment) can
 * reach the state bucket with no key in its environment.
 *
 * What stops another caller: it listens on 127.0.0.1 only; a request must carry the process's
 * random path token and a `Host` of that loopback address (a web page cannot guess the token, and
 * a rebound DNS name is refused); it serves one bucket, keys under one folder, and object-level
 * reads, writes and deletes plus listings, never bucket settings. What it does not stop: anything
 * that can read the environment of the process given the endpoint (its own children, or the same
 * Unix user through /proc) can use the bucket while this process runs. It never learns the key
 * pair, and nothing works once the process is gone or from another machine.
 */
export async function startS3SigningProxy(opts: S3SigningProxyOptions): Promise<S3SigningProxy> {
  const token = randomBytes(24).toString("hex");
  const prefix = (opts.prefix ?? "").replace(/^\/+|\/+$/g, "");
  const maxBody = opts.maxBodyBytes ?? 256 * 1024 * 1024;
  let refusedCount = 0;
  let hostHeader = "";

  const refuse = (res: http.ServerResponse, status: number, code: string, message: string) => {
    refusedCount++;
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    );
  };

  const server = http.createServer((req, res) => {
    const target = route(req);
    if ("refusal" in target) return refuse(res, 403, "AccessDenied", target.refusal);
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= maxBody) chunks.push(c);
    });
    req.on("end", () => {
      if (size > maxBody) return refuse(res, 413, "EntityTooLarge", "request body over the proxy's limit");
      forward(req, res, target.key, target.query, Buffer.concat(chunks));
    });
  });

  /** The bucket key and query a request asks for, or why it is refused. */
  function route(
    req: http.IncomingMessage,
  ): { key: string; query: Array<[string, string]> } | { refusal: string } {
    if (req.headers.host !== hostHeader) return { refusal: "unexpected Host" };
    const url = new URL(req.url ?? "/", "http://proxy");
    const parts = url.pathname.split("/").slice(1);
    const given = Buffer.from(parts[0] ?? "");
    if (given.length !== token.length || !timingSafeEqual(given, Buffer.from(token)))
      return { refusal: "unknown path" };
    let segments: string[];
    try {
      segments = parts.slice(1).map((s) => decodeURIComponent(s));
    } catch {
      return { refusal: "malformed path" };
    }
    if (segments[0] !== opts.target.bucket) return { refusal: "not the served bucket" };
    const key = segments.slice(1).join("/");
    const query = [...url.searchParams.entries()];
    const method = req.method ?? "GET";
    if (key === "") {
      // The bucket itself: listings only (ListObjects with a prefix inside the folder).
      if (method !== "GET" && method !== "HEAD") return { refusal: "bucket operations are not served" };
      const listPrefix = url.searchParams.get("prefix") ?? "";
      if (query.some(([k]) => !LISTING_PARAMS.has(k))) return { refusal: "only listings are served" };
      if (prefix && listPrefix !== prefix && !listPrefix.startsWith(`${prefix}/`))
        return { refusal: "listing outside the served folder" };
      return { key, query };
    }
    if (!["GET", "HEAD", "PUT", "DELETE", "POST"].includes(method)) return { refusal: "method not served" };
    if (prefix && !key.startsWith(`${prefix}/`)) return { refusal: "key outside the served folder" };
    if (query.some(([k]) => !OBJECT_PARAMS.has(k))) return { refusal: "object sub-resource not served" };
    // CopyObject (the engine backs up each checkpoint so) names its source in a header: same rules.
    const copySource = req.headers["x-amz-copy-source"];
    if (copySource !== undefined) {
      let source: string[];
      try {
        source = String(copySource)
          .replace(/^\/+/, "")
          .split("?")[0]!
          .split("/")
          .map((x) => decodeURIComponent(x));
      } catch {
        return { refusal: "malformed copy source" };
      }
      const sourceKey = source.slice(1).join("/");
      if (source[0] !== opts.target.bucket || (prefix && !sourceKey.startsWith(`${prefix}/`)))
        return { refusal: "copy source outside the served folder" };
    }
    return { key, query };
  }

  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    key: string,
    query: Array<[string, string]>,
    body: Buffer,
  ) {
    const method = req.method ?? "GET";
    const url = s3ObjectUrl(opts.target, key, query);
    const signed: Record<string, string> = {};
    const unsigned: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      const v = Array.isArray(value) ? value.join(",") : value;
      if (name.startsWith("x-amz-") && !OWN_AMZ_HEADERS.has(name)) signed[name] = v;
      else if (SIGNED_PLAIN_HEADERS.has(name)) signed[name] = v;
      else if (PASSED_HEADERS.has(name)) unsigned[name] = v;
    }
    const headers = {
      ...unsigned,
      ...signS3Request({
        method,
        host: url.host,
        path: url.pathname,
        query,
        headers: signed,
        payloadHash: sha256Hex(body),
        region: opts.target.region,
        credentials: opts.target.credentials,
      }),
      "content-length": String(body.length),
    };
    const send = url.protocol === "https:" ? https.request : http.request;
    const upstream = send(url, { method, headers }, (answer) => {
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers))
        if (value !== undefined && !HOP_HEADERS.has(name)) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(res);
    });
    upstream.on("error", (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      res.writeHead(502, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>store unreachable</Message></Error>`,
      );
    });
    upstream.end(body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  // The proxy serves engine runs of this process; it never keeps the process alive by itself.
  server.unref();
  const port = (server.address() as AddressInfo).port;
  hostHeader = `127.0.0.1:${port}`;
  return {
    endpoint: `http://${hostHeader}/${token}`,
    refused: () => refusedCount,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Query parameters of ListObjects (V1 and V2) and GetBucketLocation. */
const LISTING_PARAMS = new Set([
  "list-type",
  "prefix",
  "delimiter",
  "max-keys",
  "continuation-token",
  "start-after",
  "marker",
  "encoding-type",
  "fetch-owner",
  "location",
]);

/** Query parameters of object reads, writes and multipart uploads. */
const OBJECT_PARAMS = new Set(["uploads", "uploadId", "partNumber", "versionId", "x-id"]);
