import * as path from "node:path";
import {
  parseSiteConfig,
  readStackyardConfig,
  type SiteConfig,
  type SiteId,
} from "../../../src/programs/site-config";

/** Repo root: this file runs from dist/test/programs/support. */
export const repoRoot = path.resolve(__dirname, "..", "..", "..", "..");

export function stackFile(site: SiteId): string {
  return path.join(repoRoot, "stacks", `Pulumi.${site}.yaml`);
}

/** The committed stack file's stackyard:* keys (a fresh deep copy each call). */
export function rawConfig(site: SiteId): Record<string, any> {
  return structuredClone(readStackyardConfig(stackFile(site)));
}

/** Sets `value` at a dotted path under `spec` (`sidekiq.pools.main.count`); `undefined` deletes. */
export function setSpec(raw: Record<string, any>, dotted: string, value: unknown): Record<string, any> {
  const keys = dotted.split(".");
  let cur = raw.spec;
  for (const k of keys.slice(0, -1)) cur = cur[k];
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return raw;
}

/** A validated config: the site's stack file with the given knob edits applied. */
export function configFor(site: SiteId, edits: Record<string, unknown> = {}): SiteConfig {
  const raw = rawConfig(site);
  for (const [k, v] of Object.entries(edits)) setSpec(raw, k, v);
  return parseSiteConfig(raw);
}
