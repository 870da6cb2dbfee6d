import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import IORedis from "ioredis";
import { provideRedis, redactRedisUrl } from "../../src/infra/redis-server";
import { createLogger } from "../../src/infra/observability/logger";
import { tempDir } from "../support/temp-dir";

/** A client that connects with exactly the URL given and reports the first command's answer. */
async function firstAnswer(url: string, authWith?: string): Promise<string> {
  const c = new IORedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
  c.on("error", () => undefined);
  try {
    await c.connect();
    if (authWith !== undefined) await c.call("AUTH", authWith);
    return String(await c.set("stackyard:forged", "1"));
  } catch (err) {
    return (err as Error).message;
  } finally {
    c.disconnect();
  }
}

describe("the embedded default's private Redis", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => (tmp = tempDir("redis-auth")));
  after(() => tmp.remove());

  it("refuses a local client without the password, keeps the password 0600 in the state dir and reuses it on restart", async () => {
    const first = await provideRedis(undefined, tmp.dir);
    let url1: string;
    try {
      url1 = first.url;
      const { port, password } = new URL(url1);
      assert.match(password, /^[0-9a-f]{64}$/);
      assert.match(await firstAnswer(`redis://127.0.0.1:${port}`), /NOAUTH/);
      assert.match(
        await firstAnswer(`redis://127.0.0.1:${port}`, "wrong-password"),
        /WRONGPASS|invalid password/i,
      );
      assert.equal(await firstAnswer(url1), "OK");

      const file = path.join(tmp.dir, "redis", "redis.password");
      assert.equal(fs.readFileSync(file, "utf8").trim(), password);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.join(tmp.dir, "redis")).mode & 0o777, 0o700);
      // The password never sits on a command line other local users can read.
      const cmdline = fs.readFileSync(`/proc/${first.process!.pid}/cmdline`, "utf8");
      assert.ok(!cmdline.includes(password), cmdline);
    } finally {
      await first.stop();
    }

    const again = await provideRedis(undefined, tmp.dir);
    try {
      assert.equal(new URL(again.url).password, new URL(url1!).password, "same password after a restart");
      const c = new IORedis(again.url, { maxRetriesPerRequest: 1 });
      assert.equal(await c.get("stackyard:forged"), "1", "the data came back with the same password");
      c.disconnect();
    } finally {
      await again.stop();
    }
  });

  it("keeps the password out of log lines and messages", () => {
    const url = "redis://:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef@127.0.0.1:6390";
    const lines: string[] = [];
    const logger = createLogger({ write: (l) => lines.push(l) });
    logger.warn("redis connection", { where: url, err: new Error(`connect to ${url} failed`) });
    logger.info(`using rediss://stackyard:s3cr3t-pass@redis.example:6380/0`);
    const all = lines.join("\n");
    assert.ok(!all.includes("0123456789abcdef0123456789abcdef"), all);
    assert.ok(!all.includes("s3cr3t-pass"), all);
    assert.match(all, /127\.0\.0\.1:6390/);
    assert.equal(redactRedisUrl(url), "redis://:[redacted]@127.0.0.1:6390");
  });
});
