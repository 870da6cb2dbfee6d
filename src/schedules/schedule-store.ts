import type IORedis from "ioredis";
import { redisCommands } from "../infra/redis-commands";
import { redisKeys } from "../infra/redis-keys";
import type { Schedule, ScheduleCursor } from "./schedule-schema";

/** Schedules per site in a Redis hash (id → JSON); BullMQ holds only when each fires. */
export class ScheduleStore {
  /** @param key the hash per site. @defaultValue the API's schedules (`redisKeys.schedules`) */
  constructor(
    private readonly redis: IORedis,
    private readonly key: (site: string) => string = redisKeys.schedules,
  ) {}

  async put(s: Schedule): Promise<void> {
    await this.redis.hset(this.key(s.site), s.id, JSON.stringify(s));
  }

  /** False when the site already holds `cap` schedules (nothing written; one step: src/infra/lua/schedule-put-under-cap-1.lua). */
  async putUnderCap(s: Schedule, cap: number): Promise<boolean> {
    return (
      (await redisCommands(this.redis).schedulePutUnderCap(
        this.key(s.site),
        s.id,
        JSON.stringify(s),
        String(cap),
      )) === 1
    );
  }

  async get(site: string, id: string): Promise<Schedule | undefined> {
    const v = await this.redis.hget(this.key(site), id);
    return v ? (JSON.parse(v) as Schedule) : undefined;
  }

  /** Every schedule of the site, oldest first (the per-site cap keeps this small). */
  async list(site: string): Promise<Schedule[]> {
    const all = await this.redis.hgetall(this.key(site));
    return Object.values(all)
      .map((v) => JSON.parse(v) as Schedule)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** Up to `limit` schedules after `after` in list order, and whether more follow. */
  async page(
    site: string,
    limit: number,
    after?: ScheduleCursor,
  ): Promise<{ schedules: Schedule[]; more: boolean }> {
    const all = await this.list(site);
    const rest = after
      ? all.filter(
          (s) => s.createdAt > after.createdAt || (s.createdAt === after.createdAt && s.id > after.id),
        )
      : all;
    return { schedules: rest.slice(0, limit), more: rest.length > limit };
  }

  async remove(site: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.key(site), id)) === 1;
  }

  /** Only the lastRun field changes, and only while the schedule still exists (deleted ones stay deleted). */
  async recordRun(site: string, id: string, lastRun: NonNullable<Schedule["lastRun"]>): Promise<void> {
    const s = await this.get(site, id);
    if (s) await this.put({ ...s, lastRun });
  }
}
