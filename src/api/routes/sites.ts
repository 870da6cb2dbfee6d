import { Router } from "express";
import { z } from "zod";
import type { OperationService } from "../../operations/operation-service";
import type { SiteStateReader } from "../../operations/site-state";
import { siteStateText } from "../../operations/site-state-text";
import { authorize } from "../auth";
import { operationLinks } from "../links";
import { parseOr400 } from "../validation";
import { siteParamSchema } from "./operations";

export const historyQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export function siteRoutes(
  ops: OperationService,
  sites: readonly string[],
  siteState: SiteStateReader,
): Router {
  const r = Router();

  r.get("/v1/sites", async (req, res) => {
    authorize(req, "sites:read");
    const p = req.principal!;
    const visible = sites.filter((s) => p.sites.includes("*") || p.sites.includes(s));
    res.json({
      sites: visible.map((s) => ({
        site: s,
        links: { self: `/v1/sites/${s}`, operations: `/v1/sites/${s}/operations` },
      })),
    });
  });

  r.get("/v1/sites/:site", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    // The overview names running and queued operations: the scope that reads operations.
    authorize(req, "operations:read", site);
    const state = await siteState.read(site);
    // The CLI and chat print the same few lines (src/operations/site-state-text.ts).
    if (req.accepts(["application/json", "text/plain"]) === "text/plain")
      res.type("text/plain").send(siteStateText(state) + "\n");
    else res.json(state);
  });

  r.get("/v1/sites/:site/operations", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    authorize(req, "operations:read", site);
    const { limit } = parseOr400(historyQuerySchema, req.query, "query");
    const list = await ops.history(site, limit);
    res.json({ site, operations: list.map((o) => ({ ...o, links: operationLinks(o) })) });
  });

  return r;
}
