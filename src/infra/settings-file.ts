import * as fs from "node:fs";
import type { z } from "zod";

/** A settings file named by an environment variable that is missing, not JSON, or not valid for its schema. */
export class SettingsFileError extends Error {
  readonly code = "SETTINGS_FILE_INVALID";
}

/**
 * Reads the JSON file `variable` names and validates it with `schema`; no file means `{}`-as-parsed.
 * Messages name the variable, the file and the key, never a value: some of these files hold passwords.
 */
export function readSettingsFile<S extends z.ZodType>(
  variable: string,
  file: string | undefined,
  schema: S,
): z.infer<S> {
  if (!file) return schema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? "not valid JSON" : ((err as NodeJS.ErrnoException).code ?? "unreadable");
    throw new SettingsFileError(`${variable} ${file}: ${why}`);
  }
  return parseSettings(`${variable} ${file}`, raw, schema);
}

/** Validates already-read settings; the first problem is reported as `<where>: <key path>: <message>`. */
export function parseSettings<S extends z.ZodType>(where: string, raw: unknown, schema: S): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new SettingsFileError(`${where}: ${i.path.join(".")}: ${i.message}`);
  }
  return r.data;
}
