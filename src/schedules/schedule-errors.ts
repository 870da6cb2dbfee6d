import { AppError } from "../errors";

export class ScheduleNotFoundError extends AppError {
  constructor(site: string, id: string) {
    super("SCHEDULE_NOT_FOUND", 404, `no schedule ${id} on ${site}`, { field: "scheduleId", site, id });
  }
}

/** This API process was started without the schedules queue (a test app, or a deployment that turned it off). */
export class SchedulesDisabledError extends AppError {
  constructor() {
    super("SCHEDULES_DISABLED", 503, "schedules are not enabled in this process");
  }
}
