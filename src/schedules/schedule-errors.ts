import { AppError } from "../errors";

export class ScheduleNotFoundError extends AppError {
  constructor(site: string, id: string) {
    super("SCHEDULE_NOT_FOUND", `no schedule ${id} on ${site}`, { field: "scheduleId", site, id });
  }
}

/** This API process was started without the schedules queue (a test app, or a deployment that turned it off). */
export class SchedulesDisabledError extends AppError {
  constructor() {
    super("SCHEDULES_DISABLED", "schedules are not enabled in this process");
  }
}

/** The site already holds as many schedules as a site may (STACKYARD_SCHEDULES_PER_SITE). */
export class ScheduleLimitError extends AppError {
  constructor(site: string, limit: number) {
    super(
      "SCHEDULE_LIMIT_REACHED",
      `${site} already has ${limit} schedules (STACKYARD_SCHEDULES_PER_SITE); delete one first`,
      { field: "site", site, limit },
    );
  }
}

/** A firing whose creator's token is gone or no longer holds the scope: nothing is submitted. */
export class ScheduleCreatorUnauthorizedError extends AppError {
  constructor(scheduleId: string, createdBy: string, reason: string) {
    super("SCHEDULE_CREATOR_UNAUTHORIZED", `schedule ${scheduleId} fired nothing: ${reason}`, {
      scheduleId,
      createdBy,
    });
  }
}
