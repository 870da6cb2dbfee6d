import type IORedis from "ioredis";
import type { Schedule } from "./schedule-schema";

const key = (site: string) => `stackyard:schedules:${site}`;

/** Schedules per site in a Redis hash (id → JSON); BullMQ holds only when each fires. */
export class ScheduleStore {
  constructor(private readonly redis: IORedis) {}

  async put(s: Schedule): Promise<void> {
    await this.redis.hset(key(s.site), s.id, JSON.stringify(s));
  }

  async get(site: string, id: string): Promise<Schedule | undefined> {
    const v = await this.redis.hget(key(site), id);
    return v ? (JSON.parse(v) as Schedule) : undefined;
  }

  async list(site: string): Promise<Schedule[]> {
    const all = await this.redis.hgetall(key(site));
    return Object.values(all)
      .map((v) => JSON.parse(v) as Schedule)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async remove(site: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(key(site), id)) === 1;
  }

  /** Only the lastRun field changes, and only while the schedule still exists (deleted ones stay deleted). */
  async recordRun(site: string, id: string, lastRun: NonNullable<Schedule["lastRun"]>): Promise<void> {
    const s = await this.get(site, id);
    if (s) await this.put({ ...s, lastRun });
  }
}
