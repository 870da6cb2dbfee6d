import * as assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { startApiHarness, secretOf, SITES, type ApiHarness } from "./api-harness";

/** Bodies a client sent wrongly are the client's error: a 4xx naming the header or the body, never 500, nothing kept. */
describe("API answers bodies it cannot decode with 415/400", function () {
  this.timeout(60_000);
  let h: ApiHarness;
  before(async () => (h = await startApiHarness()));
  after(async () => h?.close());

  const jobsQueued = async () => Object.values(await h.queues.counts()).reduce((a, b) => a + b, 0);
  const opsRecorded = async () => {
    let n = 0;
    for (const s of SITES) n += (await h.ledger.listForSite(s, 100)).length;
    return n;
  };
  const send = async (headers: Record<string, string>, body: Buffer | string) => {
    const res = await fetch(`${h.client().base}/v1/sites/theatl/operations`, {
      method: "POST",
      headers: { authorization: `Bearer ${secretOf("admin")}`, ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const good = JSON.stringify({ operation: "scale-sidekiq", params: { count: 3 } });

  const cases: Array<{
    name: string;
    headers: Record<string, string>;
    body: Buffer | string;
    status: number;
    code: string;
    field: string;
  }> = [
    {
      name: "a charset the JSON parser does not read",
      headers: { "content-type": "application/json; charset=latin-9" },
      body: good,
      status: 415,
      code: "UNSUPPORTED_CHARSET",
      field: "content-type",
    },
    {
      name: "an unknown Content-Encoding",
      headers: { "content-type": "application/json", "content-encoding": "x-snappy" },
      body: good,
      status: 415,
      code: "UNSUPPORTED_ENCODING",
      field: "content-encoding",
    },
    {
      name: "a broken gzip body",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: Buffer.from("this is not gzip at all"),
      status: 400,
      code: "MALFORMED_BODY",
      field: "body",
    },
    {
      name: "a truncated gzip body",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: gzipSync(good).subarray(0, 12),
      status: 400,
      code: "MALFORMED_BODY",
      field: "body",
    },
    {
      name: "a broken deflate body",
      headers: { "content-type": "application/json", "content-encoding": "deflate" },
      body: Buffer.from([1, 2, 3, 4, 5, 6]),
      status: 400,
      code: "MALFORMED_BODY",
      field: "body",
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} ${c.code} to ${c.name}, naming ${c.field}, and keeps nothing`, async () => {
      const r = await send(c.headers, c.body);
      assert.equal(r.status, c.status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, c.code);
      assert.equal(r.body.error.details.field, c.field);
      assert.equal(typeof r.body.error.message, "string");
      assert.equal(await jobsQueued(), 0);
      assert.equal(await opsRecorded(), 0);
    });
  }

  it("still reads a well-formed gzip body", async () => {
    const r = await send({ "content-type": "application/json", "content-encoding": "gzip" }, gzipSync(good));
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(await jobsQueued(), 1);
  });

  it("logs none of them as a failure of the service", () => {
    const failed = h.logLines.map((l) => JSON.parse(l)).filter((l) => l.level === "error");
    assert.deepEqual(failed, []);
  });
});
