import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { operationRequestSchema } from "../operations/registry";

/** A stored schedule: an ordinary operation request plus when to submit it. */
export interface Schedule {
  id: string;
  site: string;
  cron: string;
  timezone: string;
  operation: string;
  params: Record<string, unknown>;
  description?: string;
  createdBy: string;
  createdAt: string;
  lastRun?: { at: string; operationId?: string; error?: { code: string; message: string } };
}

export const SCHEDULE_ID_PATTERN = /^sch-[0-9a-f]{16}$/;

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The body of `POST /v1/sites/:site/schedules`. The cron expression takes 5 fields (minute first)
 * or 6 (seconds first); it must parse, and its firings must be at least `minIntervalSeconds` apart,
 * so a typo cannot turn into an engine run every second. The operation and its params are checked
 * against the operation's own schema now, not at the first firing.
 */
export function scheduleBodySchema(minIntervalSeconds: number) {
  return z
    .strictObject({
      cron: z.string().min(9).max(120),
      timezone: z.string().max(64).default("UTC").refine(validTimezone, "an IANA time zone (e.g. Europe/Berlin)"),
      operation: z.string(),
      params: z.record(z.string(), z.unknown()).default({}),
      description: z.string().max(200).optional(),
    })
    .superRefine((b, ctx) => {
      const req = operationRequestSchema.safeParse({ operation: b.operation, params: b.params });
      if (!req.success) {
        // Re-raised under this schema; an unknown key keeps its name in the path (`params.extra`).
        for (const i of req.error.issues) ctx.addIssue({ code: "custom", path: i.code === "unrecognized_keys" ? [...i.path, i.keys[0]!] : i.path, message: i.message });
      }
      if (!validTimezone(b.timezone)) return;
      try {
        const it = CronExpressionParser.parse(b.cron, { tz: b.timezone });
        const [a, c] = it.take(2).map((d) => d.getTime());
        if (a !== undefined && c !== undefined && (c - a) / 1000 < minIntervalSeconds) {
          ctx.addIssue({ code: "custom", path: ["cron"], message: `fires more often than every ${minIntervalSeconds} s (STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS)` });
        }
      } catch (err) {
        ctx.addIssue({ code: "custom", path: ["cron"], message: `not a cron expression: ${(err as Error).message}` });
      }
    });
}
export type ScheduleBody = z.infer<ReturnType<typeof scheduleBodySchema>>;

/** The next few firing times, for the listing. */
export function nextRuns(s: Pick<Schedule, "cron" | "timezone">, n = 3): string[] {
  try {
    return CronExpressionParser.parse(s.cron, { tz: s.timezone })
      .take(n)
      .map((d) => d.toISOString() ?? "");
  } catch {
    return [];
  }
}
