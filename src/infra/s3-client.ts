import { createHash, createHmac } from "node:crypto";

/** Where a bucket is and how to sign for it. */
export interface S3Bucket {
  bucket: string;
  /** `https://s3.<region>.amazonaws.com` unless an S3-compatible store names its own. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), as most S3-compatible stores need. */
  pathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export class S3RequestError extends Error {
  constructor(
    readonly status: number,
    readonly s3Code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The few S3 calls stackyard makes itself (list, read, write and delete objects of one bucket),
 * signed with AWS Signature V4 over Node's fetch. The engine talks to the bucket through its own
 * SDK; this is for what the engine cannot do, such as clearing a dead engine's lock object.
 */
export class S3Client {
  constructor(private readonly b: S3Bucket) {}

  /** Every key under `prefix` (ListObjectsV2, following continuation tokens). */
  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { "list-type": "2", prefix };
      if (token) query["continuation-token"] = token;
      const xml = (await this.send("GET", "", query)).toString("utf8");
      for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(xmlText(m[1]!));
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
        ? xmlText(/<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1] ?? "")
        : undefined;
    } while (token);
    return keys;
  }

  /** The object's bytes, or undefined when there is no such key. */
  async getObject(key: string): Promise<Buffer | undefined> {
    try {
      return await this.send("GET", key);
    } catch (err) {
      if (err instanceof S3RequestError && err.status === 404) return undefined;
      throw err;
    }
  }

  async putObject(key: string, body: Buffer | string): Promise<void> {
    await this.send("PUT", key, {}, Buffer.from(body));
  }

  /** Deleting a key that is already gone succeeds, as S3 itself answers. */
  async deleteObject(key: string): Promise<void> {
    await this.send("DELETE", key);
  }

  /** Creates the bucket (an S3-compatible store set up for the first time); an existing one of ours is fine. */
  async createBucket(): Promise<void> {
    try {
      await this.send("PUT", undefined);
    } catch (err) {
      if (err instanceof S3RequestError && err.s3Code === "BucketAlreadyOwnedByYou") return;
      throw err;
    }
  }

  /** One signed request; `key` undefined addresses the bucket itself, "" its listing. */
  private async send(
    method: string,
    key: string | undefined,
    query: Record<string, string> = {},
    body: Buffer = Buffer.alloc(0),
  ): Promise<Buffer> {
    const url = this.url(key ?? "", query);
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]|\.\d{3}/g, "");
    const day = amzDate.slice(0, 8);
    const payloadHash = sha256(body);
    const headers: Record<string, string> = {
      host: url.host,
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": amzDate,
    };
    const signedHeaders = Object.keys(headers).sort().join(";");
    const canonical = [
      method,
      url.pathname,
      canonicalQuery(query),
      ...Object.keys(headers)
        .sort()
        .map((h) => `${h}:${headers[h]}`),
      "",
      signedHeaders,
      payloadHash,
    ].join("\n");
    const scope = `${day}/${this.b.region}/s3/aws4_request`;
    const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
    let k: Buffer = hmac(`AWS4${this.b.credentials.secretAccessKey}`, day);
    for (const part of [this.b.region, "s3", "aws4_request"]) k = hmac(k, part);
    const signature = createHmac("sha256", k).update(toSign).digest("hex");
    const { host: _host, ...sent } = headers;
    const res = await fetch(url, {
      method,
      headers: {
        ...sent,
        authorization: `AWS4-HMAC-SHA256 Credential=${this.b.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      },
      ...(method === "PUT" ? { body } : {}),
    });
    const out = Buffer.from(await res.arrayBuffer());
    if (!res.ok) {
      const text = out.toString("utf8");
      const code = xmlText(/<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? "");
      throw new S3RequestError(
        res.status,
        code,
        `S3 ${method} ${this.b.bucket}/${key ?? ""}: ${res.status} ${code || res.statusText}`,
      );
    }
    return out;
  }

  private url(key: string, query: Record<string, string>): URL {
    const base = new URL(this.b.endpoint ?? `https://s3.${this.b.region}.amazonaws.com`);
    const encodedKey = key.split("/").map(uriEncode).join("/");
    const basePath = base.pathname.replace(/\/$/, "");
    if (this.b.pathStyle) {
      base.pathname = `${basePath}/${uriEncode(this.b.bucket)}${key ? `/${encodedKey}` : ""}`;
    } else {
      base.host = `${this.b.bucket}.${base.host}`;
      base.pathname = `${basePath}/${encodedKey}`;
    }
    base.search = canonicalQuery(query);
    return base;
  }
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4 wants. */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: Record<string, string>): string {
  return Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k]!)}`)
    .join("&");
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

function xmlText(s: string): string {
  return s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&amp;/g, "&");
}
