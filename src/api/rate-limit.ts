import type { NextFunction, Request, Response } from "express";
import type IORedis from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { RateLimitedError } from "../errors";
import { redisKeys } from "../infra/redis-keys";

/** Requests per token per window, counted in Redis so every API process draws on one budget. */
export interface RateLimitSettings {
  /** @defaultValue 600 */
  requests: number;
  /** @defaultValue 60 */
  windowSeconds: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { requests: 600, windowSeconds: 60 };

/**
 * Per-token rate limit, after authentication (keyed by token id, never by address: many operators
 * may share one proxy). Over the budget: 429 RATE_LIMITED with `Retry-After`. A Redis that does
 * not answer fails the request like any other Redis error (503), it does not wave it through.
 */
export function rateLimit(redis: IORedis, settings: RateLimitSettings = DEFAULT_RATE_LIMIT) {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: redisKeys.rateLimitPrefix,
    points: settings.requests,
    duration: settings.windowSeconds,
  });
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const tokenId = req.principal?.tokenId;
    if (!tokenId) return next();
    try {
      const r = await limiter.consume(tokenId);
      res.set("RateLimit-Limit", String(settings.requests));
      res.set("RateLimit-Remaining", String(r.remainingPoints));
      next();
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) return next(err);
      next(new RateLimitedError(tokenId, settings, Math.max(1, Math.ceil(err.msBeforeNext / 1000))));
    }
  };
}
