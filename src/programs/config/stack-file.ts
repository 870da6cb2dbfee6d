import * as fs from "node:fs";
import { parse } from "yaml";
import { CONFIG_NAMESPACE, parseSiteConfig, SiteConfigError, type SiteConfig } from "./index";

/** The `stackyard:*` keys of a stack file, namespace stripped, not yet validated. */
export type RawStackyardConfig = Record<string, unknown>;

/**
 * Reads `stacks/Pulumi.<stack>.yaml` and returns its `stackyard:*` keys without validating them
 * (operations read this, change one knob, and write the file back).
 */
export function readStackyardConfig(file: string): RawStackyardConfig {
  return stackyardConfigOf(file, readStackFileText(file));
}

/** The stack file's text; an unreadable file is a SiteConfigError naming it. */
export function readStackFileText(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new SiteConfigError(`${file}: cannot read stack file: ${(err as Error).message}`);
  }
}

/** The `stackyard:*` keys of a stack file's text (`file` names it in errors). */
export function stackyardConfigOf(file: string, text: string): RawStackyardConfig {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    const msg = (err as Error).message.split("\n")[0];
    throw new SiteConfigError(`${file}: malformed YAML: ${msg}`);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new SiteConfigError(
      `${file}: expected a YAML mapping with a "config" key, got ${JSON.stringify(doc)}`,
    );
  }
  const config = (doc as Record<string, unknown>).config;
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new SiteConfigError(`${file}: config: expected a mapping of "namespace:key" entries`);
  }
  const out: RawStackyardConfig = {};
  const prefix = `${CONFIG_NAMESPACE}:`;
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
    if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  }
  return out;
}

/** Reads and validates a stack file. Malformed YAML or bad values throw a SiteConfigError naming the file or key. */
export function loadStackFile(file: string): SiteConfig {
  const raw = readStackyardConfig(file);
  try {
    return parseSiteConfig(raw);
  } catch (err) {
    if (err instanceof SiteConfigError) throw new SiteConfigError(`${file}: ${err.message}`, err.problems);
    throw err;
  }
}
