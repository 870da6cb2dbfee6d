import { Router } from "express";
import { z } from "zod";
import { authorize } from "../api/auth";
import { siteParamSchema } from "../api/routes/operations";
import { parseOr400 } from "../api/validation";
import { UnsupportedMediaTypeError } from "../errors";
import { SchedulesDisabledError } from "./schedule-errors";
import { SCHEDULE_ID_PATTERN, scheduleBodySchema, scheduleListQuerySchema } from "./schedule-schema";
import type { ScheduleService } from "./schedule-service";

const scheduleParamSchema = z.strictObject({
  site: siteParamSchema.shape.site,
  scheduleId: z.string().regex(SCHEDULE_ID_PATTERN, "a schedule id (sch-<16 hex>)"),
});

const links = (site: string, id: string) => ({
  self: `/v1/sites/${site}/schedules/${id}`,
  site: `/v1/sites/${site}`,
  operations: `/v1/sites/${site}/operations`,
});

/** `POST/GET /v1/sites/:site/schedules`, `DELETE /v1/sites/:site/schedules/:scheduleId`. */
export function scheduleRoutes(schedules: ScheduleService | undefined, minIntervalSeconds: number): Router {
  const r = Router();
  const bodySchema = scheduleBodySchema(minIntervalSeconds);
  const need = () => {
    if (!schedules) throw new SchedulesDisabledError();
    return schedules;
  };

  r.post("/v1/sites/:site/schedules", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    if (!req.is("application/json")) throw new UnsupportedMediaTypeError(req.headers["content-type"]);
    authorize(req, "operations:write", site);
    const body = parseOr400(bodySchema, req.body, "body");
    // A schedule acts later with the creator's authority over this operation; check it now.
    const p = authorize(req, "operations:write", site, body.operation);
    const s = await need().create(site, body, p.tokenId);
    res
      .status(201)
      .location(links(site, s.id).self)
      .json({ ...s, links: links(site, s.id) });
  });

  r.get("/v1/sites/:site/schedules", async (req, res) => {
    const { site } = parseOr400(siteParamSchema, req.params, "path");
    authorize(req, "operations:read", site);
    const query = parseOr400(scheduleListQuerySchema, req.query, "query");
    const page = await need().list(site, query);
    const next =
      page.nextCursor && `/v1/sites/${site}/schedules?limit=${query.limit}&cursor=${page.nextCursor}`;
    res.json({
      site,
      schedules: page.schedules.map((s) => ({ ...s, links: links(site, s.id) })),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      links: { self: `/v1/sites/${site}/schedules`, ...(next ? { next } : {}) },
    });
  });

  r.delete("/v1/sites/:site/schedules/:scheduleId", async (req, res) => {
    const { site, scheduleId } = parseOr400(scheduleParamSchema, req.params, "path");
    authorize(req, "operations:write", site);
    const s = await need().get(site, scheduleId);
    // Deleting a schedule takes the same authority as creating it: its own operation, not just the site.
    const p = authorize(req, "operations:write", site, s.operation);
    await need().remove(site, scheduleId, p.tokenId);
    res.status(200).json({ id: scheduleId, deleted: true });
  });

  return r;
}
