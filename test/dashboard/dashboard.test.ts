import * as assert from "node:assert/strict";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir } from "../support/temp-dir";
import { operatorService, type OperatorService } from "../chatops/support/operator-service";

import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";

describe("dashboard behind the API's tokens", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("sends an anonymous browser to the login page, and the queues API answers 401", async () => {
    const page = await fetch(`${s.base}/dashboard`, { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/dashboard/login");
    assert.equal((await fetch(`${s.base}/dashboard/queues/api/queues`)).status, 401);
  });

  it("trades a token for an HttpOnly, SameSite=Strict session cookie that is not the token; a wrong token gets 401", async () => {
    const bad = await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: "token=svc_nope_nope_nope",
      redirect: "manual",
    });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get("set-cookie"), null);
    const noScope = await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens.metrics)}`,
      redirect: "manual",
    });
    assert.equal(noScope.status, 401, "a metrics-only token may not read operations");
    const ok = await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens.reader)}`,
      redirect: "manual",
    });
    assert.equal(ok.status, 303);
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(
      cookie,
      /^stackyard_session=[A-Za-z0-9_-]{43}; Path=\/dashboard; HttpOnly; SameSite=Strict; Max-Age=\d+$/,
    );
    assert.ok(!cookie.includes(s.tokens.reader));
  });

  it("refuses login and logout posted from another origin, or naming none (403, no cookie, the session survives)", async () => {
    const post = (p: string, headers: Record<string, string>, body = "") =>
      fetch(`${s.base}${p}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body,
        redirect: "manual",
      });
    const login = `token=${encodeURIComponent(s.tokens.reader)}`;
    const tries: Array<Record<string, string>> = [
      {},
      { origin: "http://evil.example" },
      { origin: "null" },
      { referer: "http://evil.example/page" },
      { origin: s.base.replace("http:", "https:") },
      { origin: "http://127.0.0.1:1" },
    ];
    for (const headers of tries) {
      const r = await post("/dashboard/login", headers, login);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.headers.get("set-cookie"), null, JSON.stringify(headers));
    }
    // A Referer from the dashboard's own page is enough when a browser sends no Origin.
    const ok = await post("/dashboard/login", { referer: `${s.base}/dashboard/login` }, login);
    assert.equal(ok.status, 303);
    const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0]!;
    const forced = await post("/dashboard/logout", { cookie, origin: "http://evil.example" });
    assert.equal(forced.status, 403);
    assert.equal(
      (await fetch(`${s.base}/dashboard`, { headers: { cookie }, redirect: "manual" })).status,
      200,
      "a cross-origin logout ended the session",
    );
    const out = await post("/dashboard/logout", { cookie, origin: s.base });
    assert.equal(out.status, 303);
    assert.equal(
      (await fetch(`${s.base}/dashboard`, { headers: { cookie }, redirect: "manual" })).status,
      303,
    );
  });

  it("logs in with headless Chromium, sees a finished operation in the list and the stack queues in Bull Board", async () => {
    const done = await s.finishedOperation();
    const profile = tempDir("chromium");
    let browser: BrowserContext | undefined;
    try {
      // A fresh profile per run.
      browser = await chromium.launchPersistentContext(profile.dir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${s.base}/dashboard`);
      assert.equal(new URL(page.url()).pathname, "/dashboard/login");
      await page.fill("#token", s.tokens.admin);
      await Promise.all([page.waitForURL(`${s.base}/dashboard`), page.click("button[type=submit]")]);
      const row = page.locator(`tr[data-operation="${done.id}"]`);
      assert.equal(await row.count(), 1, "the finished operation is listed");
      assert.equal((await row.locator("td").nth(3).innerText()).trim(), "succeeded");
      assert.match(await row.innerText(), /scale theatl sidekiq pool "main"/);

      await page.goto(`${s.base}/dashboard/queues`);
      await page.getByText("stack-turns").first().waitFor({ timeout: 30_000 });
      const cookies = await browser.cookies();
      assert.ok(cookies.every((c) => !c.value.includes(s.tokens.admin)));
      assert.ok(cookies.some((c) => c.name === "stackyard_session" && c.httpOnly && c.sameSite === "Strict"));
    } finally {
      await browser?.close();
      profile.remove();
    }
  });
});
