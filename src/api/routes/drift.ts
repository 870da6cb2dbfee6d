import { Router } from "express";
import { z } from "zod";
import { UnsupportedMediaTypeError } from "../../errors";
import type { DriftReport } from "../../operations/drift-report";
import type { OperationService } from "../../operations/operation-service";
import type { SiteStateReader } from "../../operations/site-state";
import { sendAccepted } from "../accepted-answer";
import { authorize } from "../auth";
import { parseOr400 } from "../validation";
import { idempotencyKeySchema, siteParamSchema } from "./operations";

/** `POST /v1/sites/:site/drift` takes no options: an empty body, or `{}`. */
const detectBodySchema = z.strictObject({});

export interface DriftRouteDeps {
  operations: OperationService;
  /** Where the 202 answer finds the detection's place in the stack's queue. */
  siteState: SiteStateReader;
  latest: (site: string) => Promise<DriftReport | undefined>;
  /** The site's detection schedule (the service's own, from STACKYARD_DRIFT_FILE), when schedules run. */
  schedule?: (site: string) => Promise<object | undefined>;
}

/**
 * `POST /v1/sites/:site/drift`: a detection now (an ordinary detect-drift operation: queued on the
 * stack, never beside an update); `GET /v1/sites/:site/drift`: the site's latest report.
 */
export function driftRoutes(deps: DriftRouteDeps): Router {
  const r = Router();

  r.post("/v1/sites/:site/drift", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    const principal = authorize(req, "operations:write", site, "detect-drift");
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 || req.headers["transfer-encoding"];
    if (hasBody) {
      if (!req.is("application/json")) throw new UnsupportedMediaTypeError(req.headers["content-type"]);
      parseOr400(detectBodySchema, req.body, "body");
    }
    const idempotencyKey = parseOr400(idempotencyKeySchema, req.header("idempotency-key"), "Idempotency-Key");
    deps.operations.requireSite(site);
    const accepted = await deps.operations.submit({
      site,
      request: { operation: "detect-drift", params: {} },
      tokenId: principal.tokenId,
      idempotencyKey,
    });
    await sendAccepted(res, deps.siteState, accepted, { drift: `/v1/sites/${site}/drift` });
  });

  r.get("/v1/sites/:site/drift", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    authorize(req, "sites:read", site);
    deps.operations.requireSite(site);
    const drift = (await deps.latest(site)) ?? null;
    const schedule = (await deps.schedule?.(site)) ?? null;
    res.json({
      site,
      drift,
      schedule,
      links: {
        self: `/v1/sites/${site}/drift`,
        ...(drift ? { detection: `/v1/operations/${drift.operationId}` } : {}),
      },
    });
  });

  return r;
}
