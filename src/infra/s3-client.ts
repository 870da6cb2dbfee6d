import { canonicalQuery, signS3Request, sha256Hex, uriEncode, type S3Credentials } from "./s3-signature";

/** Where a bucket is and how to sign for it. */
export interface S3Bucket {
  bucket: string;
  /** `https://s3.<region>.amazonaws.com` unless an S3-compatible store names its own. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (`<endpoint>/<bucket>/<key>`), as most S3-compatible stores need. */
  pathStyle: boolean;
  credentials: S3Credentials;
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
    const pairs = Object.entries(query);
    const url = s3ObjectUrl(this.b, key ?? "", pairs);
    const headers = signS3Request({
      method,
      host: url.host,
      path: url.pathname,
      query: pairs,
      headers: {},
      payloadHash: sha256Hex(body),
      region: this.b.region,
      credentials: this.b.credentials,
    });
    const res = await fetch(url, { method, headers, ...(method === "PUT" ? { body } : {}) });
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
}

/** The URL of `key` in the bucket ("" for the bucket itself), path-style or virtual-hosted, with a canonical query. */
export function s3ObjectUrl(b: S3Bucket, key: string, query: Array<[string, string]>): URL {
  const base = new URL(b.endpoint ?? `https://s3.${b.region}.amazonaws.com`);
  const encodedKey = key.split("/").map(uriEncode).join("/");
  const basePath = base.pathname.replace(/\/$/, "");
  if (b.pathStyle) {
    base.pathname = `${basePath}/${uriEncode(b.bucket)}${key ? `/${encodedKey}` : ""}`;
  } else {
    base.host = `${b.bucket}.${base.host}`;
    base.pathname = `${basePath}/${encodedKey}`;
  }
  base.search = canonicalQuery(query);
  return base;
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
