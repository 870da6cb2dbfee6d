import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import type { Queue } from "bullmq";
import express, { Router, type NextFunction, type Request, type Response } from "express";
import type IORedis from "ioredis";
import { allows, findToken, type Principal, type TokenEntry } from "../auth/tokens";
import { statusOf } from "../errors";
import type { EventRouteDeps } from "../api/routes/events";
import type { Ledger } from "../operations/ledger";
import type { OperationService } from "../operations/operation-service";
import type { OperationRecord } from "../operations/operation-record";
import type { Logger } from "../infra/observability/logger";
import { esc, nav, page, PAGE_HEADERS } from "./html";
import { operationPageRoutes } from "./operation-routes";
import { sitePage } from "./site-page";
import type { SiteState } from "../operations/site-state";
import { requireServedOrigin } from "./same-origin";
import { SessionStore, sessionCookie, sessionIdFrom } from "./session-store";

export interface DashboardDeps {
  tokens: readonly TokenEntry[];
  sites: readonly string[];
  ledger: Ledger;
  /** With these, the operation pages and approvals (operation-routes.ts) are served too. */
  operations?: OperationService;
  events?: Omit<EventRouteDeps, "operations">;
  redis: IORedis;
  logger: Logger;
  /** The stack queues shown by Bull Board (read-only); without them the queues view is absent. */
  queueOf?: (site: string) => Queue;
  /** The site pages (`/dashboard/sites/:site`) read the same state `GET /v1/sites/:site` answers. */
  siteState?: { read(site: string): Promise<SiteState> };
  sessionTtlSeconds?: number;
  /** Secure cookies need https; the sandbox serves plain http on loopback. */
  secureCookie?: boolean;
}

declare module "express-serve-static-core" {
  interface Request {
    dashboardPrincipal?: Principal;
  }
}

/**
 * `/dashboard`: recent operations, and Bull Board at `/dashboard/queues`, behind the same tokens as
 * the API (scope operations:read): a login form trades a token for a session cookie.
 */
export function dashboardRoutes(deps: DashboardDeps): Router {
  const r = Router();
  const sessions = new SessionStore(deps.redis, deps.sessionTtlSeconds ?? 8 * 3600);
  const form = express.urlencoded({ extended: false, limit: 4096 });
  const html = (res: Response, status: number, body: string) =>
    res.status(status).set(PAGE_HEADERS).type("html").send(body);

  const principalById = (tokenId: string): Principal | undefined => {
    const t = deps.tokens.find((x) => x.id === tokenId);
    return t && { tokenId: t.id, sites: t.sites, operations: t.operations, scopes: t.scopes };
  };

  async function requireSession(req: Request, res: Response, next: NextFunction): Promise<void> {
    const sid = sessionIdFrom(req.headers.cookie);
    const tokenId = sid ? await sessions.tokenIdOf(sid) : undefined;
    const p = tokenId ? principalById(tokenId) : undefined;
    if (!p || !allows(p, "operations:read")) {
      if (req.originalUrl.startsWith("/dashboard/queues/api"))
        return void res
          .status(statusOf("UNAUTHENTICATED"))
          .json({ error: { code: "UNAUTHENTICATED", message: "log in at /dashboard/login", details: {} } });
      return void res.redirect(303, "/dashboard/login");
    }
    req.dashboardPrincipal = p;
    next();
  }

  r.get("/dashboard/login", (_req, res) => html(res, 200, loginPage()));

  // Log in and log out change who the browser is: only from this server's own pages (no CSRF).
  const sameOrigin = requireServedOrigin(deps.secureCookie ?? false, (res) => {
    deps.logger.info("dashboard form refused", { reason: "cross-origin or no Origin/Referer" });
    html(res, 403, page("forbidden", "<p>This form must be sent from the dashboard's own page.</p>"));
  });

  r.post("/dashboard/login", sameOrigin, form, async (req, res) => {
    const token = typeof req.body?.token === "string" ? req.body.token.trim() : "";
    const p = /^[A-Za-z0-9._~+/=-]{8,512}$/.test(token) ? findToken(deps.tokens, token) : undefined;
    if (!p || !allows(p, "operations:read")) {
      deps.logger.info("dashboard login refused", { known: p !== undefined });
      return void html(res, 401, loginPage("That token is unknown or may not read operations."));
    }
    const sid = await sessions.create(p.tokenId);
    deps.logger.info("dashboard login", { tokenId: p.tokenId });
    res
      .set("Set-Cookie", sessionCookie(sid, sessions.ttlSeconds, deps.secureCookie ?? false))
      .redirect(303, "/dashboard");
  });

  r.post("/dashboard/logout", sameOrigin, async (req, res) => {
    const sid = sessionIdFrom(req.headers.cookie);
    if (sid) await sessions.destroy(sid);
    res.set("Set-Cookie", sessionCookie("", 0, deps.secureCookie ?? false)).redirect(303, "/dashboard/login");
  });

  r.get("/dashboard", requireSession, async (req, res) => {
    const p = req.dashboardPrincipal!;
    const visible = deps.sites.filter((s) => allows(p, "operations:read", s));
    const lists = await Promise.all(visible.map((s) => deps.ledger.listForSite(s, 25)));
    const ops = lists
      .flat()
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, 50);
    html(res, 200, operationsPage(p, ops, !!deps.queueOf && seesEverything(p)));
  });

  if (deps.siteState) {
    const reader = deps.siteState;
    r.get("/dashboard/sites/:site", requireSession, async (req, res, next) => {
      const p = req.dashboardPrincipal!;
      const site = String(req.params.site);
      // A site this token may not read is "not found", like one that does not exist.
      if (!deps.sites.includes(site) || !allows(p, "operations:read", site))
        return void html(res, 404, page("not found", `<p>No site ${esc(site)}.</p>`));
      try {
        html(res, 200, sitePage(p.tokenId, !!deps.queueOf && seesEverything(p), await reader.read(site)));
      } catch (err) {
        next(err);
      }
    });
  }

  if (deps.operations && deps.events)
    r.use(
      operationPageRoutes({
        operations: deps.operations,
        ledger: deps.ledger,
        events: deps.events,
        logger: deps.logger,
        requireSession,
        sameOrigin,
        form,
        queuesFor: (p) => !!deps.queueOf && seesEverything(p),
      }),
    );

  if (deps.queueOf) {
    const adapter = new ExpressAdapter();
    adapter.setBasePath("/dashboard/queues");
    // Read-only: retrying or removing a job from the board would bypass the ledger and its checks.
    createBullBoard({
      queues: deps.sites.map(
        (s) =>
          new BullMQAdapter(deps.queueOf!(s), {
            readOnlyMode: true,
            description: `operations of stack ${s}`,
          }),
      ),
      serverAdapter: adapter,
      options: { uiConfig: { boardTitle: "stackyard queues" } },
    });
    const admin = (req: Request, res: Response, next: NextFunction) => {
      // The board shows every job of every stack, whatever its operation: only for tokens that may see all of them.
      if (!seesEverything(req.dashboardPrincipal!)) {
        const message = "the queues view needs a token for every site and every operation";
        if (req.originalUrl.startsWith("/dashboard/queues/api"))
          return void res
            .status(statusOf("FORBIDDEN"))
            .json({ error: { code: "FORBIDDEN", message, details: { sites: ["*"], operations: ["*"] } } });
        return void res
          .status(403)
          .set(PAGE_HEADERS)
          .type("html")
          .send(page("forbidden", `<p>${esc(message)}.</p>`));
      }
      next();
    };
    r.use("/dashboard/queues", requireSession, admin, adapter.getRouter());
  }
  return r;
}

/** Every site and every operation: what the queues view shows at once. */
function seesEverything(p: Principal): boolean {
  return p.sites.includes("*") && p.operations.includes("*");
}

function loginPage(error?: string): string {
  return page(
    "stackyard: log in",
    `<h1>stackyard</h1>
<form method="post" action="/dashboard/login">
<label for="token">API token (scope operations:read)</label><br>
<input id="token" name="token" type="password" autocomplete="off" size="60" required>
<button type="submit">Log in</button>
</form>${error ? `<p role="alert" class="failed">${esc(error)}</p>` : ""}`,
  );
}

function operationsPage(p: Principal, ops: OperationRecord[], queues: boolean): string {
  const rows = ops
    .map((o) => {
      const rider = (o as OperationRecord & { coalescedInto?: string }).coalescedInto;
      return `<tr data-operation="${esc(o.id)}"><td><a href="/dashboard/operations/${esc(o.id)}"><code>${esc(o.id)}</code></a></td><td><a href="/dashboard/sites/${esc(o.site)}">${esc(o.site)}</a></td><td>${esc(o.kind)}</td>
<td class="${esc(o.status)}">${esc(o.status)}</td><td>${esc(o.plan?.summary ?? "")}${rider ? ` <small>(carried by ${esc(rider)})</small>` : ""}</td>
<td>${esc(o.requester?.tokenId)}${o.requester?.via ? ` <small>(via ${esc(o.requester.via)})</small>` : ""}</td><td>${esc(o.createdAt)}</td><td>${esc(o.finishedAt ?? "")}</td><td>${esc(o.reason ?? "")}</td></tr>`;
    })
    .join("\n");
  return page(
    "stackyard: operations",
    `${nav(p.tokenId, queues)}
<h1>Recent operations</h1>
<table><thead><tr><th>id</th><th>site</th><th>operation</th><th>status</th><th>plan</th><th>requester</th><th>created</th><th>finished</th><th>reason</th></tr></thead>
<tbody>${rows || `<tr><td colspan="9">No operations yet.</td></tr>`}</tbody></table>`,
  );
}
