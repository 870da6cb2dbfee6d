import { Router, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { allows, type Principal } from "../auth/tokens";
import { AppError, statusOf } from "../errors";
import { streamOperationEvents, type EventRouteDeps } from "../api/routes/events";
import { opIdParamSchema } from "../api/routes/operations";
import { parseOr400 } from "../api/validation";
import { assertMayAct } from "../operations/operation-access";
import type { OperationRecord } from "../operations/operation-record";
import type { OperationService } from "../operations/operation-service";
import type { Ledger } from "../operations/ledger";
import type { Logger } from "../infra/observability/logger";
import { formToken, validFormToken } from "./form-token";
import { esc, nav, page, PAGE_HEADERS, SCRIPT_PAGE_HEADERS } from "./html";
import { OPERATION_SCRIPT } from "./operation-script";
import { approvalsBody, operationBody } from "./operation-view";
import { sessionIdFrom } from "./session-store";

export interface OperationPageDeps {
  operations: OperationService;
  ledger: Ledger;
  events: Omit<EventRouteDeps, "operations">;
  logger: Logger;
  /** Sets `req.dashboardPrincipal` or sends the browser to the login page. */
  requireSession: RequestHandler;
  /** The Origin/Referer check of the dashboard's forms (same-origin.ts). */
  sameOrigin: RequestHandler;
  /** The urlencoded parser of the dashboard's forms. */
  form: RequestHandler;
  /** Whether the nav shows the queues view for this principal. */
  queuesFor: (p: Principal) => boolean;
}

/** How many waiting operations the approvals page lists (soonest to expire first). */
const AWAITING_PAGE_SIZE = 100;

/**
 * The operation page (`/dashboard/operations/:id`, its events live over the session), the list of
 * operations awaiting approval (`/dashboard/approvals`) and its Approve / Reject forms. Deciding
 * goes through the same calls as `POST /v1/operations/:id/approve|reject`: the same scope check
 * (assertMayAct) and the same OperationService, as the logged-in principal.
 */
export function operationPageRoutes(deps: OperationPageDeps): Router {
  const r = Router();
  const send = (res: Response, status: number, title: string, body: string, headers = PAGE_HEADERS) =>
    res.status(status).set(headers).type("html").send(page(title, body));
  const principal = (req: Request) => req.dashboardPrincipal!;
  const frame = (req: Request, body: string) =>
    `${nav(principal(req).tokenId, deps.queuesFor(principal(req)))}\n${body}`;
  const sessionToken = (req: Request) => formToken(sessionIdFrom(req.headers.cookie) ?? "");

  /** A refusal from the domain as a page with its status; anything else goes to the error handler. */
  const refusal = (req: Request, res: Response, next: NextFunction, err: unknown) => {
    if (!(err instanceof AppError)) return next(err);
    send(
      res,
      statusOf(err.code),
      "stackyard: refused",
      frame(
        req,
        `<p role="alert" class="failed" id="refusal">refused (${esc(err.code)}): ${esc(err.message)}</p><p><a href="/dashboard/approvals">back to approvals</a></p>`,
      ),
    );
  };

  /** The path's operation, if this principal may read it (else the API's 404; a malformed id is 400). */
  async function readableOp(req: Request): Promise<OperationRecord> {
    const { id } = parseOr400(opIdParamSchema, req.params, "path");
    assertMayAct(principal(req), id, await deps.operations.find(id), "operations:read");
    return deps.operations.get(id);
  }

  r.get("/dashboard/assets/operation.js", (_req, res) => {
    res
      .status(200)
      .set({ "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache" })
      .type("application/javascript")
      .send(OPERATION_SCRIPT);
  });

  /**
   * A malformed id is 400 before the session check, as the API answers it: a redirect to the login
   * page would accept a request no id pattern allows. The page gets HTML, the event stream JSON.
   */
  const wellFormedId =
    (as: "html" | "json") =>
    (req: Request, res: Response, next: NextFunction): void => {
      try {
        parseOr400(opIdParamSchema, req.params, "path");
        next();
      } catch (err) {
        if (!(err instanceof AppError)) return next(err);
        if (as === "json") return void res.status(statusOf(err.code)).json(err.toJSON());
        send(
          res,
          statusOf(err.code),
          "stackyard: refused",
          `<p role="alert" class="failed" id="refusal">refused (${esc(err.code)}): ${esc(err.message)}</p>`,
        );
      }
    };

  r.get("/dashboard/operations/:id", wellFormedId("html"), deps.requireSession, async (req, res, next) => {
    try {
      const o = await readableOp(req);
      const approve = allows(principal(req), "operations:approve", o.site, o.kind);
      send(
        res,
        200,
        `stackyard: ${o.id}`,
        frame(req, operationBody(o, { approve, formToken: sessionToken(req) })),
        SCRIPT_PAGE_HEADERS,
      );
    } catch (err) {
      refusal(req, res, next, err);
    }
  });

  // The API's event stream, authorised by the session instead of a bearer header (EventSource sends none).
  r.get(
    "/dashboard/operations/:id/events",
    wellFormedId("json"),
    deps.requireSession,
    async (req, res, next) => {
      let o: OperationRecord;
      try {
        o = await readableOp(req);
      } catch (err) {
        if (err instanceof AppError) return void res.status(statusOf(err.code)).json(err.toJSON());
        return next(err);
      }
      streamOperationEvents(deps.events, o.id, principal(req).tokenId, req, res);
    },
  );

  r.get("/dashboard/approvals", deps.requireSession, async (req, res) => {
    const p = principal(req);
    const ids = await deps.ledger.awaitingIds(AWAITING_PAGE_SIZE);
    const recs = await Promise.all(ids.map((id) => deps.operations.find(id)));
    const ops = recs
      .filter(
        (o): o is OperationRecord =>
          o?.status === "awaiting-approval" && allows(p, "operations:read", o.site),
      )
      .map((op) => ({ op, approve: allows(p, "operations:approve", op.site, op.kind) }));
    send(res, 200, "stackyard: approvals", frame(req, approvalsBody(ops, sessionToken(req))));
  });

  for (const decision of ["approve", "reject"] as const) {
    r.post(
      `/dashboard/operations/:id/${decision}`,
      deps.sameOrigin,
      deps.requireSession,
      deps.form,
      async (req, res, next) => {
        const p = principal(req);
        if (!validFormToken(sessionIdFrom(req.headers.cookie) ?? "", req.body?.csrf)) {
          deps.logger.info("dashboard form refused", {
            reason: "missing or wrong form token",
            tokenId: p.tokenId,
          });
          return void send(
            res,
            403,
            "stackyard: forbidden",
            frame(
              req,
              `<p role="alert" class="failed">This form is stale or was not sent from the dashboard; reload the page.</p>`,
            ),
          );
        }
        try {
          const { id } = parseOr400(opIdParamSchema, req.params, "path");
          assertMayAct(p, id, await deps.operations.find(id), "operations:approve");
          const after =
            decision === "approve"
              ? await deps.operations.approve(id, p.tokenId)
              : await deps.operations.reject(id, p.tokenId);
          deps.logger.info(`dashboard ${decision}`, {
            operationId: id,
            stack: after.site,
            tokenId: p.tokenId,
          });
          res.redirect(303, `/dashboard/operations/${id}`);
        } catch (err) {
          refusal(req, res, next, err);
        }
      },
    );
  }
  return r;
}
