import { createHash, randomBytes } from "node:crypto";
import type { Job, Queue } from "bullmq";
import { AppError } from "../errors";
import type { OperationService } from "../operations/operation-service";
import { operationRequestSchema } from "../operations/registry";
import type { Logger } from "../infra/observability/logger";
import type { TokenEntry } from "../auth/tokens";
import { firingAuthority } from "./firing-authority";
import {
  ScheduleCreatorUnauthorizedError,
  ScheduleLimitError,
  ScheduleNotFoundError,
} from "./schedule-errors";
import {
  encodeCursor,
  nextRuns,
  type Schedule,
  type ScheduleBody,
  type ScheduleListQuery,
} from "./schedule-schema";
import type { ScheduleStore } from "./schedule-store";

/** One BullMQ queue for every schedule: its Job Schedulers only say "submit schedule X now". */
export const SCHEDULES_QUEUE = "stackyard-schedules";

export interface ScheduleJobData {
  site: string;
  scheduleId: string;
}

/** The fixed id of the service's own schedule of an operation on a site (every process computes the same). */
export function systemScheduleId(principal: string, site: string, operation: string): string {
  return `sch-${createHash("sha256").update(`${principal}|${site}|${operation}`).digest("hex").slice(0, 16)}`;
}

/** Where a scheduled operation came from (`requester.via`); its requester is the schedule's creator. */
export const scheduleOrigin = (id: string) => `schedule:${id}`;

export interface ScheduleServiceOptions {
  /** The configured tokens as they are now: every firing re-checks its creator against them. */
  tokens: () => readonly TokenEntry[];
  /** Schedules a site may hold (STACKYARD_SCHEDULES_PER_SITE). @defaultValue 50 */
  maxPerSite?: number;
  /** Where the service's own schedules live (ensureSystem). @defaultValue none: ensureSystem refuses */
  systemStore?: ScheduleStore;
}

/**
 * Creates, lists and deletes schedules, and turns a firing into an ordinary operation through
 * OperationService.submit: the same plan, guards, queue, runner and history as an HTTP request.
 */
export class ScheduleService {
  constructor(
    private readonly store: ScheduleStore,
    private readonly queue: Queue<ScheduleJobData>,
    private readonly operations: OperationService,
    private readonly logger: Logger,
    private readonly opts: ScheduleServiceOptions,
  ) {}

  get maxPerSite(): number {
    return this.opts.maxPerSite ?? 50;
  }

  async create(
    site: string,
    body: ScheduleBody,
    createdBy: string,
  ): Promise<Schedule & { nextRuns: string[] }> {
    this.operations.requireSite(site);
    const s: Schedule = {
      id: `sch-${randomBytes(8).toString("hex")}`,
      site,
      cron: body.cron,
      timezone: body.timezone,
      operation: body.operation,
      params: body.params,
      description: body.description,
      createdBy,
      createdAt: new Date().toISOString(),
    };
    if (!(await this.store.putUnderCap(s, this.maxPerSite)))
      throw new ScheduleLimitError(site, this.maxPerSite);
    try {
      await this.queue.upsertJobScheduler(
        s.id,
        { pattern: s.cron, tz: s.timezone },
        {
          name: "scheduled-operation",
          data: { site, scheduleId: s.id },
          opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
        },
      );
    } catch (err) {
      await this.store.remove(site, s.id).catch(() => undefined);
      throw err;
    }
    this.logger.info("schedule created", {
      stack: site,
      scheduleId: s.id,
      cron: s.cron,
      operation: s.operation,
      createdBy,
    });
    return { ...s, nextRuns: nextRuns(s) };
  }

  /**
   * The service's own schedule of an operation on a site (the drift detection), made or updated at
   * start from the settings: a fixed id per site and operation, so every start and every process
   * upserts the same one; `cron: undefined` removes it. Acts as `principal` (see firing-authority.ts).
   */
  async ensureSystem(
    site: string,
    operation: string,
    principal: string,
    when: { cron: string; timezone: string } | undefined,
    description: string,
  ): Promise<Schedule | undefined> {
    const store = this.opts.systemStore;
    if (!store) throw new Error("ensureSystem: no system schedule store configured");
    const id = systemScheduleId(principal, site, operation);
    const prior = await store.get(site, id);
    if (!when) {
      if (prior) {
        await this.queue.removeJobScheduler(id);
        await store.remove(site, id);
      }
      return undefined;
    }
    const s: Schedule = {
      id,
      site,
      cron: when.cron,
      timezone: when.timezone,
      operation,
      params: {},
      description,
      createdBy: principal,
      createdAt: prior?.createdAt ?? new Date().toISOString(),
      ...(prior?.lastRun ? { lastRun: prior.lastRun } : {}),
    };
    await store.put(s);
    await this.queue.upsertJobScheduler(
      id,
      { pattern: s.cron, tz: s.timezone },
      {
        name: "scheduled-operation",
        data: { site, scheduleId: id },
        opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } },
      },
    );
    this.logger.info("system schedule set", { stack: site, scheduleId: id, cron: s.cron, operation });
    return s;
  }

  /** One page of the site's schedules, oldest first; `nextCursor` when more follow. */
  async list(
    site: string,
    query: ScheduleListQuery = { limit: 50 },
  ): Promise<{ schedules: Array<Schedule & { nextRuns: string[] }>; nextCursor?: string }> {
    this.operations.requireSite(site);
    const { schedules, more } = await this.store.page(site, query.limit, query.cursor);
    const last = schedules.at(-1);
    return {
      schedules: schedules.map((s) => ({ ...s, nextRuns: nextRuns(s) })),
      ...(more && last ? { nextCursor: encodeCursor(last) } : {}),
    };
  }

  /** The service's own schedule of an operation on the site, if set, with its next runs (the drift route shows it). */
  async system(
    site: string,
    operation: string,
    principal: string,
  ): Promise<(Schedule & { nextRuns: string[] }) | undefined> {
    const s = await this.opts.systemStore?.get(site, systemScheduleId(principal, site, operation));
    return s && { ...s, nextRuns: nextRuns(s) };
  }

  async get(site: string, id: string): Promise<Schedule> {
    const s = await this.store.get(site, id);
    if (!s) throw new ScheduleNotFoundError(site, id);
    return s;
  }

  /** The caller has already been authorized for the schedule's own operation (see the route). */
  async remove(site: string, id: string, by: string): Promise<void> {
    const s = await this.get(site, id);
    await this.queue.removeJobScheduler(s.id);
    await this.store.remove(site, id);
    this.logger.info("schedule deleted", { stack: site, scheduleId: id, by });
  }

  /**
   * One firing. The job id (unique per firing) is the Idempotency-Key, so a firing delivered twice
   * (BullMQ is at-least-once) still makes one operation. A refusal (guard, bounds) is a result, not
   * a job failure: it is kept on the schedule as lastRun.error and logged.
   */
  async fire(job: Job<ScheduleJobData>): Promise<{ operationId?: string; refused?: string }> {
    const { site, scheduleId } = job.data;
    const user = await this.store.get(site, scheduleId);
    const store = user ? this.store : (this.opts.systemStore ?? this.store);
    const s = user ?? (await store.get(site, scheduleId));
    if (!s) {
      // Deleted between the scheduler's tick and now: stop it for good.
      await this.queue.removeJobScheduler(scheduleId).catch(() => undefined);
      return { refused: "SCHEDULE_NOT_FOUND" };
    }
    const at = new Date().toISOString();
    try {
      // The creator's authority as it is now, not as it was when the schedule was made.
      const authority = firingAuthority(this.opts.tokens(), s);
      if (!authority.ok) throw new ScheduleCreatorUnauthorizedError(s.id, s.createdBy, authority.reason);
      const request = operationRequestSchema.parse({ operation: s.operation, params: s.params });
      // Requested by the creator (approval refuses them as approver), via the schedule; the schedule
      // namespaces the firing's idempotency key, so no HTTP request of the creator can collide with it.
      const { record } = await this.operations.submit({
        site,
        request,
        tokenId: s.createdBy,
        via: scheduleOrigin(s.id),
        idempotencyKey: `${job.id ?? at}`,
      });
      await store.recordRun(site, s.id, { at, operationId: record.id });
      this.logger.info("schedule fired", { stack: site, scheduleId: s.id, operationId: record.id });
      return { operationId: record.id };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await store.recordRun(site, s.id, { at, error: { code: err.code, message: err.message } });
      this.logger.warn("schedule firing refused", {
        stack: site,
        scheduleId: s.id,
        createdBy: s.createdBy,
        code: err.code,
        reason: err.message,
      });
      return { refused: err.code };
    }
  }
}
