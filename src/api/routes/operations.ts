import { Router, type Request } from "express";
import { z } from "zod";
import { UnauthenticatedError, UnsupportedMediaTypeError } from "../../errors";
import { assertMayAct, type OperationAction } from "../../operations/operation-access";
import { OPERATION_ID_PATTERN } from "../../operations/ids";
import type { OperationService } from "../../operations/operation-service";
import type { SiteStateReader } from "../../operations/site-state";
import { operationRequestSchema } from "../../operations/registry";
import { authorize } from "../auth";
import type { Principal } from "../../auth/tokens";
import { queueField, sendAccepted } from "../accepted-answer";
import { operationLinks } from "../links";
import { parseOr400 } from "../validation";

export const siteParamSchema = z.strictObject({
  site: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "a site id"),
});
export const opIdParamSchema = z.strictObject({
  id: z.string().regex(OPERATION_ID_PATTERN, "an operation id (op-<uuid>)"),
});
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,200}$/, "1-200 printable ASCII characters")
  .optional();

export function operationRoutes(ops: OperationService, siteState: SiteStateReader): Router {
  const r = Router();

  r.post("/v1/sites/:site/operations", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    if (!req.is("application/json")) throw new UnsupportedMediaTypeError(req.headers["content-type"]);
    authorize(req, "operations:write", site);
    const body = parseOr400(operationRequestSchema, req.body, "body");
    const principal = authorize(req, "operations:write", site, body.operation);
    const idempotencyKey = parseOr400(idempotencyKeySchema, req.header("idempotency-key"), "Idempotency-Key");
    ops.requireSite(site);
    const accepted = await ops.submit({
      site,
      request: body,
      tokenId: principal.tokenId,
      idempotencyKey,
    });
    await sendAccepted(res, siteState, accepted);
  });

  r.get("/v1/operations/:id", async (req, res) => {
    const rec = await readable(ops, req);
    res.json({ ...rec, ...(await queueField(siteState, rec)), links: operationLinks(rec) });
  });

  r.post("/v1/operations/:id/cancel", async (req, res) => {
    const { id, principal } = await mayAct(ops, req, "operations:cancel");
    const after = await ops.cancel(id, principal.tokenId);
    res.status(202).json({
      id,
      status: after.status,
      cancelRequested: after.cancelRequested ?? false,
      links: operationLinks(after),
    });
  });

  // A second principal releases an operation waiting after its preview (never its requester).
  r.post("/v1/operations/:id/approve", async (req, res) => {
    const { id, principal } = await mayAct(ops, req, "operations:approve");
    const after = await ops.approve(id, principal.tokenId);
    res
      .status(202)
      .json({ id, status: after.status, approval: after.approval, links: operationLinks(after) });
  });

  // Turns down an operation waiting for approval: it ends cancelled (failure APPROVAL_REJECTED).
  r.post("/v1/operations/:id/reject", async (req, res) => {
    const { id, principal } = await mayAct(ops, req, "operations:approve");
    const after = await ops.reject(id, principal.tokenId);
    res.status(200).json({
      id,
      status: after.status,
      approval: after.approval,
      failure: after.failure,
      links: operationLinks(after),
    });
  });

  return r;
}

/** `queue: {position, ahead, estimatedWaitSeconds}` for a queued operation, computed when read. */
/** The path's operation id, once the caller may do `action` on it (decided before any side effect). */
async function mayAct(
  ops: OperationService,
  req: Request,
  action: OperationAction,
): Promise<{ id: string; principal: Principal }> {
  const { id } = parseOr400(opIdParamSchema, req.params, "path");
  const principal = req.principal;
  if (!principal) throw new UnauthenticatedError();
  assertMayAct(principal, id, await ops.find(id), action);
  return { id, principal };
}

/** Loads an operation the caller may read (scope + the operation's site); any other is "not found". */
export async function readable(ops: OperationService, req: Request) {
  const { id } = await mayAct(ops, req, "operations:read");
  return ops.get(id);
}
