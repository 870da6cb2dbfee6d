import { Router } from "express";
import type IORedis from "ioredis";
import { statusOf } from "../../errors";

/** Liveness says the process answers; readiness says it can keep what it accepts (Redis answers). */
export function healthRoutes(redis: IORedis): Router {
  const r = Router();
  r.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/readyz", async (_req, res) => {
    const ping = await Promise.race([
      redis.ping().then(
        () => true,
        () => false,
      ),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000)),
    ]);
    if (ping) res.json({ status: "ready", redis: "up" });
    else
      res.status(statusOf("SERVICE_UNAVAILABLE")).json({
        error: {
          code: "SERVICE_UNAVAILABLE",
          message: "redis does not answer",
          details: { redis: "down" },
        },
      });
  });
  return r;
}
