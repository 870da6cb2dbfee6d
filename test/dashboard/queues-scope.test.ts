import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import express from "express";
import IORedis from "ioredis";
import { hashToken, type TokenEntry } from "../../src/auth/tokens";
import { dashboardRoutes } from "../../src/dashboard/dashboard-routes";
import { startPrivateRedis, type RedisHandle } from "../../src/infra/redis-server";
import { Ledger } from "../../src/operations/ledger";
import { silentLogger } from "../../src/infra/observability/logger";
import { StackQueues } from "../../src/workers/stack-queues";
import { tempDir } from "../support/temp-dir";

const SITES = ["theatl", "vulpine"];
const secrets = {
  admin: "svc_dash_admin_0123456789",
  allSitesOneOp: "svc_dash_scaler_0123456789",
  oneSite: "svc_dash_theatl_0123456789",
};
const entry = (
  id: keyof typeof secrets,
  sites: string[],
  operations: TokenEntry["operations"],
): TokenEntry => ({
  id,
  sha256: hashToken(secrets[id]),
  sites,
  operations,
  scopes: ["operations:read"],
});

/** Bull Board shows every job of every stack: only a token for every site and every operation may open it. */
describe("dashboard queues view (Bull Board)", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let redis: RedisHandle;
  let conn: IORedis;
  let queues: StackQueues;
  let server: http.Server;
  let base: string;

  before(async () => {
    tmp = tempDir("dash-queues");
    redis = await startPrivateRedis(path.join(tmp.dir, "redis"));
    conn = new IORedis(redis.url, { maxRetriesPerRequest: 1 });
    queues = new StackQueues(conn, conn, SITES);
    const app = express();
    app.use(
      dashboardRoutes({
        tokens: [
          entry("admin", ["*"], ["*"]),
          entry("allSitesOneOp", ["*"], ["scale-sidekiq"]),
          entry("oneSite", ["theatl"], ["*"]),
        ],
        sites: SITES,
        ledger: new Ledger(conn),
        redis: conn,
        logger: silentLogger,
        queueOf: () => queues.turnQueue,
      }),
    );
    server = http.createServer(app);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await queues?.close();
    conn?.disconnect();
    await redis?.stop();
    tmp?.remove();
  });

  const login = async (who: keyof typeof secrets): Promise<string> => {
    const r = await fetch(`${base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: base }, // a form from the dashboard itself
      body: `token=${encodeURIComponent(secrets[who])}`,
      redirect: "manual",
    });
    assert.equal(r.status, 303);
    return (r.headers.get("set-cookie") ?? "").split(";")[0]!;
  };
  const board = async (who: keyof typeof secrets, p: string) =>
    fetch(`${base}${p}`, { headers: { cookie: await login(who) }, redirect: "manual" });

  it("refuses a token for every site but not every operation, in the page and in its API", async () => {
    const page = await board("allSitesOneOp", "/dashboard/queues");
    assert.equal(page.status, 403);
    assert.match(await page.text(), /every site and every operation/);
    const api = await board("allSitesOneOp", "/dashboard/queues/api/queues");
    assert.equal(api.status, 403);
    assert.equal(((await api.json()) as any).error.code, "FORBIDDEN");
  });

  it("refuses a token for one site", async () => {
    assert.equal((await board("oneSite", "/dashboard/queues/api/queues")).status, 403);
  });

  it("opens for a token with every site and every operation", async () => {
    const api = await board("admin", "/dashboard/queues/api/queues");
    assert.equal(api.status, 200);
    const names = (((await api.json()) as any).queues as Array<{ name: string }>).map((q) => q.name).sort();
    // Every stack takes turns on one shared queue.
    assert.deepEqual(names, ["stack-turns"]);
  });

  it("links the queues view only for such a token", async () => {
    assert.doesNotMatch(
      await (await board("allSitesOneOp", "/dashboard")).text(),
      /href="\/dashboard\/queues"/,
    );
    assert.match(await (await board("admin", "/dashboard")).text(), /href="\/dashboard\/queues"/);
  });
});
