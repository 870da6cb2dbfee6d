import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";
import type { DriftReport } from "./drift-report";

export type DetectionCounts = Array<{ site: string; result: "drifted" | "clean"; count: number }>;

/**
 * The last drift report of each site, and how many detections ran, in Redis: every process (API,
 * workers, /metrics) reads the same answer. The report is also on its detect-drift operation.
 */
export class DriftReports {
  constructor(private readonly redis: IORedis) {}

  /** Keeps `r` as the site's latest and counts the detection (one MULTI). */
  async record(r: DriftReport): Promise<void> {
    const result = r.resources > 0 ? "drifted" : "clean";
    await this.redis
      .multi()
      .set(redisKeys.drift(r.site), JSON.stringify(r))
      .hincrby(redisKeys.driftDetections, `${r.site}|${result}`, 1)
      .exec();
  }

  async latest(site: string): Promise<DriftReport | undefined> {
    return latestDrift(this.redis, site);
  }

  async detections(): Promise<DetectionCounts> {
    const all = await this.redis.hgetall(redisKeys.driftDetections);
    return Object.entries(all).map(([k, v]) => {
      const [site, result] = k.split("|") as [string, "drifted" | "clean"];
      return { site, result, count: Number(v) };
    });
  }
}

/** The site's latest drift report, or undefined when no detection has run (for the site's state). */
export async function latestDrift(redis: IORedis, site: string): Promise<DriftReport | undefined> {
  const raw = await redis.get(redisKeys.drift(site));
  return raw ? (JSON.parse(raw) as DriftReport) : undefined;
}
