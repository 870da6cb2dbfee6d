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
  /** The token id of the creator: each firing acts with that token's current authority, and names it as requester. */
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
      timezone: z
        .string()
        .max(64)
        .default("UTC")
        .refine(validTimezone, "an IANA time zone (e.g. Europe/Berlin)"),
      operation: z.string(),
      params: z.record(z.string(), z.unknown()).default({}),
      description: z.string().max(200).optional(),
    })
    .superRefine((b, ctx) => {
      const req = operationRequestSchema.safeParse({ operation: b.operation, params: b.params });
      if (!req.success) {
        // Re-raised under this schema; an unknown key keeps its name in the path (`params.extra`).
        for (const i of req.error.issues)
          ctx.addIssue({
            code: "custom",
            path: i.code === "unrecognized_keys" ? [...i.path, i.keys[0]!] : i.path,
            message: i.message,
          });
      }
      if (!validTimezone(b.timezone)) return;
      try {
        const gap = shortestGap(b.cron, b.timezone, minIntervalSeconds);
        if (gap !== undefined && gap.seconds < minIntervalSeconds) {
          ctx.addIssue({
            code: "custom",
            path: ["cron"],
            message: `fires more often than every ${minIntervalSeconds} s (STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS): ${gap.seconds} s between ${gap.at[0]} and ${gap.at[1]}`,
          });
        }
      } catch (err) {
        ctx.addIssue({
          code: "custom",
          path: ["cron"],
          message: `not a cron expression: ${(err as Error).message}`,
        });
      }
    });
}
/** How far ahead the minimum interval is checked. */
export const GAP_HORIZON_MS = 24 * 3600_000;

/**
 * The shortest gap between consecutive firings over a day of firings, starting at the first one
 * (a day covers every time of day once, and one day boundary), stopping at the first gap below
 * `minIntervalSeconds`. Comparing only the first two firings let through an expression firing at
 * seconds 0-29 and 59 of every other minute: its first gap can be 61 s, the next twenty-nine are
 * 1 s. Bounded: a day holds at most 86,400 / minIntervalSeconds firings that far apart, so no more
 * than that (plus one) are read (1,441 at the default 60 s); cron has no gap below 1 s to find.
 * Undefined when the expression fires at most once (or the minimum is 1 s).
 */
export function shortestGap(
  cron: string,
  timezone: string,
  minIntervalSeconds: number,
  from: Date = new Date(),
): { seconds: number; at: [string, string] } | undefined {
  const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: from });
  if (minIntervalSeconds <= 1 || !it.hasNext()) return undefined;
  const maxFirings = Math.ceil(GAP_HORIZON_MS / 1000 / minIntervalSeconds) + 1;
  let prev = it.next().getTime();
  const end = prev + GAP_HORIZON_MS;
  let shortest: { seconds: number; at: [string, string] } | undefined;
  for (let i = 0; i < maxFirings && it.hasNext(); i++) {
    const t = it.next().getTime();
    const seconds = (t - prev) / 1000;
    if (!shortest || seconds < shortest.seconds)
      shortest = { seconds, at: [new Date(prev).toISOString(), new Date(t).toISOString()] };
    // Not the first gap under the minimum: the shortest one (1 s is as short as cron gets), so the
    // refusal names the same gap whatever moment the request arrives at.
    if (shortest.seconds <= 1 || t > end) break;
    prev = t;
  }
  return shortest;
}

export type ScheduleBody = z.infer<ReturnType<typeof scheduleBodySchema>>;

/** A page of the schedule list: `cursor` is the `nextCursor` of the page before (opaque). */
export const scheduleListQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .max(200)
    .transform((c, ctx) => {
      const after = decodeCursor(c);
      if (!after)
        ctx.addIssue({ code: "custom", message: "not a cursor from this listing (use nextCursor as given)" });
      return after ?? z.NEVER;
    })
    .optional(),
});
export type ScheduleListQuery = z.infer<typeof scheduleListQuerySchema>;

/** Where a page ends: schedules are listed by creation time, then id. */
export interface ScheduleCursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: ScheduleCursor): string {
  return Buffer.from(`${c.createdAt}|${c.id}`, "utf8").toString("base64url");
}

function decodeCursor(raw: string): ScheduleCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|(sch-[0-9a-f]{16})$/.exec(
    Buffer.from(raw, "base64url").toString("utf8"),
  );
  return m ? { createdAt: m[1]!, id: m[2]! } : undefined;
}

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
