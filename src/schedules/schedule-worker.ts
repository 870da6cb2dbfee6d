import { Queue, Worker, type ConnectionOptions } from "bullmq";
import type IORedis from "ioredis";
import type { OperationService } from "../operations/operation-service";
import type { Logger } from "../infra/observability/logger";
import {
  SCHEDULES_QUEUE,
  ScheduleService,
  type ScheduleJobData,
  type ScheduleServiceOptions,
} from "./schedule-service";
import { ScheduleStore } from "./schedule-store";
import { redisKeys } from "../infra/redis-keys";

/** The schedules queue and its service, for the API (create/list/delete) and the workers (fire). */
export function openSchedules(
  connection: ConnectionOptions,
  redis: IORedis,
  operations: OperationService,
  logger: Logger,
  opts: ScheduleServiceOptions,
) {
  const queue = new Queue<ScheduleJobData>(SCHEDULES_QUEUE, { connection });
  const service = new ScheduleService(new ScheduleStore(redis), queue, operations, logger, {
    systemStore: new ScheduleStore(redis, redisKeys.systemSchedules),
    ...opts,
  });
  return { queue, service, close: () => queue.close() };
}

/**
 * Runs firings: each one only submits an operation (milliseconds), so one Worker per process and a
 * small concurrency is plenty; the engine work happens on the stack queues like any other request.
 */
export async function startScheduleWorker(
  service: ScheduleService,
  connection: ConnectionOptions,
  logger: Logger,
): Promise<Worker<ScheduleJobData>> {
  const worker = new Worker<ScheduleJobData>(SCHEDULES_QUEUE, (job) => service.fire(job), {
    connection,
    concurrency: 2,
  });
  worker.on("error", (err) => logger.error("schedule worker error", { err }));
  worker.on("failed", (job, err) =>
    logger.warn("schedule firing failed", { scheduleId: job?.data.scheduleId, stack: job?.data.site, err }),
  );
  await worker.waitUntilReady();
  return worker;
}
