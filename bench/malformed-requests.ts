// Benchmark (not a test): `npx tsc -p tsconfig.json && node dist/bench/malformed-requests.js [count]`.
// Sends N (default 1,000) malformed requests to the API (in-process app, real HTTP, real Redis) and
// reports the answers by status class and whether anything was enqueued or recorded.
import * as http from "node:http";
import { gzipSync } from "node:zlib";
import IORedis from "ioredis";
import { secretOf, SITES, startApiHarness } from "../test/api/api-harness";

interface Probe {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | string;
}

const ID = "op-00000000-0000-0000-0000-000000000000";
const json = "application/json";

/** The i-th malformed request: cycles through the kinds, varying each. */
function probe(i: number, token: string): Probe {
  const auth = { authorization: `Bearer ${token}` };
  const ops = "/v1/sites/theatl/operations";
  const n = Math.floor(i / 12);
  switch (i % 12) {
    case 0:
      return {
        kind: "bad JSON",
        method: "POST",
        path: ops,
        headers: { ...auth, "content-type": json },
        body: ['{"operation":', "{'a':1}", "[1,2", '{"x":1}}', "\u0000"][n % 5]!,
      };
    case 1: {
      const bad = [
        { count: "five" },
        { count: 2.5 },
        { count: -n },
        { count: 101 + n },
        { count: null },
        { count: [3] },
        { count: 3, pool: 7 },
        { count: 3, pool: "Bad Pool!" },
      ];
      return {
        kind: "wrong types",
        method: "POST",
        path: ops,
        headers: { ...auth, "content-type": json },
        body: JSON.stringify({ operation: "scale-sidekiq", params: bad[n % bad.length] }),
      };
    }
    case 2:
      return {
        kind: "wrong shape",
        method: "POST",
        path: ops,
        headers: { ...auth, "content-type": json },
        body: JSON.stringify(
          [
            null,
            1,
            "x",
            { operation: "reboot" },
            { operation: "failover", params: { target: 3 } },
            { operation: "scale-sidekiq" },
          ][n % 6],
        ),
      };
    case 3:
      return {
        kind: "huge body",
        method: "POST",
        path: ops,
        headers: { ...auth, "content-type": json },
        body: JSON.stringify({
          operation: "scale-sidekiq",
          params: { count: 3, pool: "x".repeat(17_000 + n) },
        }),
      };
    case 4:
      return {
        kind: "huge gzip body",
        method: "POST",
        path: ops,
        headers: { ...auth, "content-type": json, "content-encoding": "gzip" },
        body: gzipSync(
          JSON.stringify({ operation: "scale-sidekiq", params: { count: 3, pool: "x".repeat(40_000) } }),
        ),
      };
    case 5:
      return {
        kind: "bad encoding",
        method: "POST",
        path: ops,
        headers: {
          ...auth,
          "content-type": json,
          "content-encoding": ["x-snappy", "gzip", "deflate", "br", "compress"][n % 5]!,
        },
        body: Buffer.from(`not compressed ${n}`),
      };
    case 6:
      return {
        kind: "bad charset",
        method: "POST",
        path: ops,
        headers: {
          ...auth,
          "content-type": `application/json; charset=${["latin-9", "koi8-r", "x-unknown", "ebcdic"][n % 4]}`,
        },
        body: '{"operation":"scale-sidekiq","params":{"count":3}}',
      };
    case 7:
      return {
        kind: "bad content type",
        method: "POST",
        path: ops,
        headers: {
          ...auth,
          "content-type": [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
          ][n % 4]!,
        },
        body: "operation=scale-sidekiq&count=3",
      };
    case 8: {
      const ids = [
        "op-1",
        "op-zzzzzzzz-0000-0000-0000-000000000000",
        "..%2F..%2Fetc%2Fpasswd",
        "%00",
        "op-" + "a".repeat(300),
        "OP-00000000-0000-0000-0000-000000000000",
        `${ID}x`,
      ];
      return {
        kind: "bad operation id",
        method: ["GET", "POST"][n % 2]!,
        path: `/v1/operations/${ids[n % ids.length]}${n % 2 ? "/cancel" : ""}`,
        headers: auth,
      };
    }
    case 9: {
      const sites = ["THEATL", "the_atl", "-x", "a".repeat(41), "..%2Fetc", "%20"];
      return {
        kind: "bad site id",
        method: "POST",
        path: `/v1/sites/${sites[n % sites.length]}/operations`,
        headers: { ...auth, "content-type": json },
        body: '{"operation":"scale-sidekiq","params":{"count":3}}',
      };
    }
    case 10: {
      const m = ["TRACE", "PUT", "PATCH", "DELETE", "PROPFIND"][n % 5]!;
      return {
        kind: "bad method",
        method: m,
        path: [ops, `/v1/operations/${ID}`, "/v1/sites", `/v1/operations/${ID}/approve`][n % 4]!,
        headers: { ...auth, "content-type": json },
        body: "{}",
      };
    }
    default:
      return {
        kind: "bad query / header",
        method: n % 2 ? "GET" : "POST",
        path: n % 2 ? `/v1/sites/theatl/operations?limit=${["0", "-1", "999", "abc", "1e9"][n % 5]}` : ops,
        headers: {
          ...auth,
          "content-type": json,
          "idempotency-key": n % 4 ? `key with spaces ${n}` : "k".repeat(201 + n),
        },
        body: n % 2 ? undefined : '{"operation":"scale-sidekiq","params":{"count":3}}',
      };
  }
}

function send(base: string, p: Probe): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${p.path}`,
      { method: p.method, headers: p.headers, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(p.body);
  });
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1000);
  const h = await startApiHarness({ rateLimit: { requests: 1_000_000, windowSeconds: 60 } });
  const byStatus: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  try {
    const base = h.client().base;
    for (let i = 0; i < count; i++) {
      const p = probe(i, secretOf("admin"));
      const status = await send(base, p).catch((err: Error) => {
        process.stderr.write(`${p.kind} ${p.method} ${p.path}: ${err.message}\n`);
        return 0;
      });
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      (byKind[p.kind] ??= {})[status] = ((byKind[p.kind] ??= {})[status] ?? 0) + 1;
    }
    const jobs = Object.values(await h.queues.counts()).reduce((a, b) => a + b, 0);
    let recorded = 0;
    for (const s of SITES) recorded += (await h.ledger.listForSite(s, 1000)).length;
    const conn = new IORedis(h.redis.url, { maxRetriesPerRequest: 1 });
    const opKeys = (await conn.keys("stackyard:op:*")).length;
    conn.disconnect();
    const classes = { "4xx": 0, "5xx": 0, other: 0 };
    for (const [s, n] of Object.entries(byStatus)) {
      const code = Number(s);
      if (code >= 400 && code < 500) classes["4xx"] += n;
      else if (code >= 500) classes["5xx"] += n;
      else classes.other += n;
    }
    const serverErrors = h.logLines.filter((l) => JSON.parse(l).level === "error").length;
    process.stdout.write(
      JSON.stringify(
        {
          requests: count,
          classes,
          byStatus,
          byKind,
          jobsEnqueued: jobs,
          operationsRecorded: recorded,
          operationKeysInRedis: opKeys,
          errorLogLines: serverErrors,
        },
        null,
        2,
      ) + "\n",
    );
    if (classes["5xx"] > 0 || classes.other > 0 || jobs > 0 || recorded > 0 || opKeys > 0)
      process.exitCode = 1;
  } finally {
    await h.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
