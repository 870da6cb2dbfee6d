import { parse } from "yaml";
import { z } from "zod";

/** The files a `#cloud-config` document writes at first boot. */
const cloudConfigSchema = z.looseObject({
  write_files: z
    .array(
      z.looseObject({
        path: z.string(),
        content: z.string().default(""),
        permissions: z.string().optional(),
      }),
    )
    .default([]),
});

export type BootFiles = ReadonlyMap<string, string>;

/** A host's boot files by path; a user data that is not a #cloud-config document writes none. */
export function bootFiles(userData: string): BootFiles {
  if (!userData.startsWith("#cloud-config\n")) return new Map();
  const doc = cloudConfigSchema.parse(parse(userData) ?? {});
  return new Map(doc.write_files.map((f) => [f.path, f.content]));
}

/** One variable of a `KEY=value` file (host.env, deploy.conf), or undefined. */
export function envLine(text: string, key: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${key}=`));
  return line === undefined ? undefined : line.slice(key.length + 1);
}
