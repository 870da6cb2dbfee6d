import * as fs from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { parse } from "yaml";

/** The stack's settings file, where `pulumi config set` writes (Pulumi.yaml's stackConfigDir, if any). */
export function stackConfigFile(workDir: string, stackName: string): string {
  let dir = workDir;
  try {
    const project = parse(fs.readFileSync(path.join(workDir, "Pulumi.yaml"), "utf8")) as {
      stackConfigDir?: string;
    };
    if (project?.stackConfigDir) dir = path.join(workDir, project.stackConfigDir);
  } catch {
    // No project file yet: the Automation API writes one, and stack files sit beside it.
  }
  return path.join(dir, `Pulumi.${stackName}.yaml`);
}

/** Top-level config keys of a stack file (none when it does not exist yet). */
function configKeys(file: string): Set<string> {
  try {
    const doc = parse(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    return new Set(Object.keys(doc?.config ?? {}));
  } catch {
    return new Set();
  }
}

/**
 * Sets, as secrets, each key of `seed` the stack file does not hold yet; keys already there (an
 * operator's own values) are left alone. Reading the file costs nothing, so a stack that has them
 * all pays no engine call.
 */
export async function seedSecretConfig(
  stack: Stack,
  workDir: string,
  seed: Record<string, Record<string, string>>,
): Promise<string[]> {
  const present = configKeys(stackConfigFile(workDir, stack.name));
  const missing = Object.keys(seed).filter((k) => !present.has(k));
  if (missing.length === 0) return [];
  const values: Record<string, { value: string; secret: true }> = {};
  for (const key of missing)
    for (const [field, value] of Object.entries(seed[key]!))
      values[`${key}.${field}`] = { value, secret: true };
  await stack.setAllConfig(values, true);
  return missing;
}
