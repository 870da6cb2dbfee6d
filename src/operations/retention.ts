import type IORedis from "ioredis";
import { redisKeys } from "../infra/redis-keys";

/** The default: finished operations are kept 90 days. */
export const DEFAULT_RETENTION_SECONDS = 90 * 86_400;

/**
 * How long a finished operation is remembered. Redis runs `noeviction` (BullMQ must not lose a
 * job), so nothing leaves it unless we say so: when an operation ends, its record, its event
 * stream and its riders set get an expiry, and its site's history index drops entries older than
 * the retention period. Event streams are also capped (MAXLEN ~5000) while they are written.
 */
export class OperationRetention {
  constructor(
    private readonly redis: IORedis,
    /** @defaultValue 90 days (STACKYARD_RETENTION_DAYS) */
    readonly seconds: number = DEFAULT_RETENTION_SECONDS,
  ) {}

  /** Called once an operation reached a terminal status. */
  async finished(id: string): Promise<void> {
    const site = await this.redis.hget(redisKeys.op(id), "site");
    const m = this.redis
      .multi()
      .expire(redisKeys.op(id), this.seconds)
      .expire(redisKeys.events(id), this.seconds)
      .expire(redisKeys.riders(id), this.seconds);
    if (site)
      m.zremrangebyscore(
        redisKeys.siteOps(JSON.parse(site) as string),
        "-inf",
        Date.now() - this.seconds * 1000,
      );
    await m.exec();
  }
}
