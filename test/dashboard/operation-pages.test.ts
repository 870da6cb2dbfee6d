import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { projectRoot } from "../../src/infra/paths";
import { CHROMIUM, CHROMIUM_ARGS } from "../support/chromium";
import { operatorService, type OperatorService, type Role } from "../chatops/support/operator-service";

/** Pages of this run, kept as artifacts (docs/operator-view.md shows them). */
const SHOTS = path.join(projectRoot, "docs", "screenshots");

describe("dashboard: operation pages and approvals in headless Chromium", function () {
  this.timeout(900_000);
  let s: OperatorService;
  let browser: Browser | undefined;
  const cspErrors: string[] = [];

  before(async () => {
    s = await operatorService();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    fs.mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => browser?.close());

  /** A browser context logged in with `role`'s token through the login form. */
  async function loggedIn(role: Role): Promise<{ ctx: BrowserContext; page: Page }> {
    const ctx = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
    const page = await ctx.newPage();
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${s.base}/dashboard/login`);
    if (role === "admin") await shot(page, "login");
    await page.fill("#token", s.tokens[role]);
    await Promise.all([page.waitForURL(`${s.base}/dashboard`), page.click("button[type=submit]")]);
    return { ctx, page };
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) });

  /**
   * A read replica of theatl requested by `lead` (who may also approve), once it waits for approval
   * (the operator-view deployment makes add-read-replica wait, like failover).
   */
  async function awaitingReplica(name: string): Promise<string> {
    const r = await s
      .api("lead")
      .post("/v1/sites/theatl/operations", { operation: "add-read-replica", params: { name } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const rec = await s.api("lead").waitFor(r.body.id, 300_000, ["awaiting-approval"]);
    assert.equal(rec.status, "awaiting-approval", rec.reason);
    return r.body.id;
  }

  /** A session cookie and its form token, from a login by fetch (for the forged-form checks). */
  async function session(role: Role): Promise<{ cookie: string; csrf: string }> {
    const r = await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens[role])}`,
      redirect: "manual",
    });
    const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0]!;
    const html = await (await fetch(`${s.base}/dashboard/approvals`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    return { cookie, csrf };
  }

  it("refuses a decision posted without this session's form token or from another origin; nothing is approved", async () => {
    const id = await awaitingReplica("pg-c");
    const mine = await session("approver");
    const other = await session("approver");
    assert.ok(mine.csrf && other.csrf && mine.csrf !== other.csrf, "each session has its own form token");
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${s.base}/dashboard/operations/${id}/approve`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: mine.cookie, ...headers },
        body,
        redirect: "manual",
      });
    const tries: Array<[string, Record<string, string>, string]> = [
      ["another origin", { origin: "http://evil.example" }, `csrf=${mine.csrf}`],
      ["no origin", {}, `csrf=${mine.csrf}`],
      ["no token", { origin: s.base }, ""],
      ["another session's token", { origin: s.base }, `csrf=${other.csrf}`],
    ];
    for (const [why, headers, body] of tries) {
      const r = await post(headers, body);
      assert.equal(r.status, 403, why);
    }
    assert.equal((await s.api().get(`/v1/operations/${id}`)).body.status, "awaiting-approval");
    // The same form, right: the approver's session releases it (then it is rejected below to keep the site still).
    const rej = await fetch(`${s.base}/dashboard/operations/${id}/reject`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: mine.cookie, origin: s.base },
      body: `csrf=${encodeURIComponent(mine.csrf)}`,
      redirect: "manual",
    });
    assert.equal(rej.status, 303);
    assert.equal(rej.headers.get("location"), `/dashboard/operations/${id}`);
    const rec = (await s.api().get(`/v1/operations/${id}`)).body;
    assert.equal(rec.status, "cancelled");
    assert.equal(rec.failure.code, "APPROVAL_REJECTED");
    assert.equal(rec.approval.rejectedBy, "approver");
  });

  it("follows an operation live, refuses the requester's own approval, and a second principal's approval completes it", async () => {
    const id = await awaitingReplica("pg-c");
    const lead = await loggedIn("lead");
    const approver = await loggedIn("approver");
    const watcher = await loggedIn("admin");
    try {
      await shot(watcher.page, "operations");

      // The watcher opens the waiting operation: server-rendered facts, no event in the HTML itself.
      const res = await watcher.page.goto(`${s.base}/dashboard/operations/${id}`);
      const csp = res!.headers()["content-security-policy"] ?? "";
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
      assert.match(await res!.text(), /<ol id="events" data-src="[^"]+"><\/ol>/);
      assert.equal((await watcher.page.locator("#status").innerText()).trim(), "awaiting-approval");
      assert.match(await watcher.page.locator("#plan").innerText(), /read replica pg-c/);
      assert.ok((await watcher.page.locator("#checks tbody tr").count()) > 0, "the checks are listed");
      assert.match(
        await watcher.page.locator("#approval").innerText(),
        /add-read-replica is marked risky for theatl/,
      );
      assert.equal(
        await watcher.page.locator("button[data-action=approve]").count(),
        0,
        "admin may not approve",
      );
      await watcher.page.locator("#events li[data-type=status]").first().waitFor({ timeout: 60_000 });
      const before = await watcher.page.locator("#events li").count();

      // The requester approves from the approvals list: refused with the API's own message.
      await lead.page.goto(`${s.base}/dashboard/approvals`);
      const leadRow = lead.page.locator(`tr[data-operation="${id}"]`);
      assert.equal(await leadRow.count(), 1);
      await Promise.all([
        lead.page.waitForLoadState("load"),
        leadRow.locator("button[data-action=approve]").click(),
      ]);
      await lead.page.locator("#refusal").waitFor();
      assert.match(
        await lead.page.locator("#refusal").innerText(),
        new RegExp(
          `^refused \\(SELF_APPROVAL_FORBIDDEN\\): operation ${id} was requested by lead; another principal must approve it$`,
        ),
      );
      await shot(lead.page, "approval-refused-self");
      assert.equal((await s.api().get(`/v1/operations/${id}`)).body.status, "awaiting-approval");

      // A second principal approves from the list; the open page follows the run without a reload.
      await approver.page.goto(`${s.base}/dashboard/approvals`);
      const row = approver.page.locator(`tr[data-operation="${id}"]`);
      assert.equal(await row.count(), 1);
      await shot(approver.page, "approvals");
      await Promise.all([
        approver.page.waitForURL(`${s.base}/dashboard/operations/${id}`),
        row.locator("button[data-action=approve]").click(),
      ]);

      await watcher.page.locator("#events li[data-type=approved]").waitFor({ timeout: 60_000 });
      await watcher.page.locator("#events li[data-type=resource-done]").first().waitFor({ timeout: 300_000 });
      await shot(watcher.page, "operation-live");
      await watcher.page.locator("#live[data-state=ended]").waitFor({ timeout: 300_000 });
      assert.equal((await watcher.page.locator("#status").innerText()).trim(), "succeeded");
      const statuses = await watcher.page.locator("#events li[data-type=status]").allInnerTexts();
      assert.ok(
        statuses.some((t) => /status succeeded/.test(t)),
        statuses.join(" | "),
      );
      assert.ok(
        (await watcher.page.locator("#events li").count()) > before,
        "events arrived after the page opened",
      );

      const final = await s.api().waitFor(id, 60_000);
      assert.equal(final.status, "succeeded", final.reason);
      assert.equal(final.approval.approvedBy, "approver");
      await watcher.page.reload();
      await watcher.page.locator("#live[data-state=ended]").waitFor({ timeout: 60_000 });
      assert.match(await watcher.page.locator("#approval").innerText(), /approved by\s*approver/);
      assert.ok(
        (await watcher.page.locator("#steps tbody tr").count()) > 0,
        "the preview's steps are listed",
      );
      await shot(watcher.page, "operation");
      assert.deepEqual(cspErrors, [], "the pages ran into their own CSP");
      // Leave the site as the other operator-view tests expect it (best effort: it may be its only standby).
      await s
        .api()
        .run("theatl", "remove-read-replica", { name: "pg-c" })
        .catch(() => undefined);
    } finally {
      await Promise.all([lead.ctx.close(), approver.ctx.close(), watcher.ctx.close()]);
    }
  });
  it("shows a site's state as GET /v1/sites/:site answers it: pools, database roles, operations; an unknown site is not found", async () => {
    const viewer = await loggedIn("reader");
    try {
      const state = (await s.api("reader").get("/v1/sites/theatl")).body;
      assert.equal(state.sidekiq.available, true);
      const res = await viewer.page.goto(`${s.base}/dashboard/sites/theatl`);
      assert.equal(res!.status(), 200);
      assert.equal((await viewer.page.locator("h1").innerText()).trim(), "theatl");
      for (const pool of state.sidekiq.pools) {
        const cells = await viewer.page.locator(`tr[data-pool="${pool.name}"] td`).allInnerTexts();
        assert.equal(cells[0], pool.name);
        assert.equal(cells[1], String(pool.count), `pool ${pool.name} processes`);
      }
      assert.equal(state.database.available, true);
      const primary = await viewer.page
        .locator(`tr[data-node="${state.database.primary.name}"] td`)
        .allInnerTexts();
      assert.equal(primary[0], "primary");
      for (const n of state.database.standbys) {
        const cells = await viewer.page.locator(`tr[data-node="${n.name}"] td`).allInnerTexts();
        assert.equal(cells[0], "standby", `standby ${n.name}`);
      }
      assert.match(
        await viewer.page.locator("[data-part=revision]").innerText(),
        new RegExp(`Config revision ${state.revision.desired}`),
      );
      if (state.last)
        assert.equal(
          await viewer.page
            .locator(`[data-part=operations] a[href="/dashboard/operations/${state.last.id}"]`)
            .count(),
          1,
        );
      await shot(viewer.page, "site");
      const missing = await viewer.page.goto(`${s.base}/dashboard/sites/nosuchsite`);
      assert.equal(missing!.status(), 404);
      assert.deepEqual(cspErrors, [], "the site page ran into its own CSP");
    } finally {
      await viewer.ctx.close();
    }
  });
  it("answers a malformed operation id 400 before the session check (the page as HTML, its event stream as JSON)", async () => {
    const page = await fetch(`${s.base}/dashboard/operations/%C2%84`, { redirect: "manual" });
    assert.equal(page.status, 400);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(await page.text(), /refused \([A-Z_]+\)/);
    const events = await fetch(`${s.base}/dashboard/operations/%C2%84/events`, { redirect: "manual" });
    assert.equal(events.status, 400);
    assert.match(events.headers.get("content-type") ?? "", /^application\/json/);
    assert.ok(((await events.json()) as { error: { code: string } }).error.code, "a coded error");
    // A well-formed id without a session still goes to the login page.
    const anon = await fetch(`${s.base}/dashboard/operations/op-00000000-0000-4000-8000-000000000000`, {
      redirect: "manual",
    });
    assert.equal(anon.status, 303);
  });
});
