import type { z } from "zod";
import { ValidationError } from "../errors";

/** Parses with a zod schema; on failure a ValidationError that names each field (`params.count`). */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new ValidationError(
    r.error.issues.map((i) => {
      const base = i.path.map(String).join(".");
      const field =
        i.code === "unrecognized_keys" ? [base, i.keys[0]].filter(Boolean).join(".") : base || where;
      return { field, message: i.message };
    }),
    where,
  );
}
