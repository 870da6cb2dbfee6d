import { z } from "zod";
import { chitterSpecSchema, type ChitterSpec } from "../chitter/spec";
import { configRevisionSchema, SITE_IDS, type SiteId } from "./common";
import { datafruitsSpecSchema, type DatafruitsSpec } from "../datafruits/spec";
import { SiteConfigError, showValue, toConfigError } from "./errors";
import { insyncSpecSchema, type InsyncSpec } from "../insync/spec";
import { theatlSpecSchema, type TheatlSpec } from "../theatl/spec";
import { vulpineSpecSchema, type VulpineSpec } from "../vulpine/spec";

export { SITE_IDS, type SiteId } from "./common";
export { SiteConfigError } from "./errors";
export type { ChitterSpec, DatafruitsSpec, InsyncSpec, TheatlSpec, VulpineSpec };

/** The config namespace every stackyard key lives in. */
export const CONFIG_NAMESPACE = "stackyard";

interface Base<S extends SiteId, Spec> {
  site: S;
  /** Bumped by the service on every applied operation; the program validates and exports it. */
  configRevision: number;
  spec: Spec;
}
export type VulpineConfig = Base<"vulpine", VulpineSpec>;
export type ChitterConfig = Base<"chitter", ChitterSpec>;
export type TheatlConfig = Base<"theatl", TheatlSpec>;
export type InsyncConfig = Base<"insync", InsyncSpec>;
export type DatafruitsConfig = Base<"datafruits", DatafruitsSpec>;
/** Discriminated on `site`. */
export type SiteConfig = VulpineConfig | ChitterConfig | TheatlConfig | InsyncConfig | DatafruitsConfig;

const specSchemas: { [S in SiteId]: z.ZodType<Extract<SiteConfig, { site: S }>["spec"]> } = {
  vulpine: vulpineSpecSchema,
  chitter: chitterSpecSchema,
  theatl: theatlSpecSchema,
  insync: insyncSpecSchema,
  datafruits: datafruitsSpecSchema,
};

/**
 * The raw shape: `{ site, configRevision, spec }`, i.e. the `stackyard:*` keys of a stack file with
 * the namespace stripped. Unknown `stackyard:*` keys are refused so a typo cannot hide a knob.
 */
export function parseSiteConfig(raw: unknown): SiteConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SiteConfigError(`${CONFIG_NAMESPACE}: expected an object of stackyard:* keys, got ${showValue(raw)}`);
  }
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !["site", "configRevision", "spec"].includes(k));
  if (extra.length > 0) {
    throw new SiteConfigError(`${CONFIG_NAMESPACE}:${extra[0]}: unknown key (known: site, configRevision, spec)`);
  }
  const site = r.site;
  if (typeof site !== "string" || !(SITE_IDS as readonly string[]).includes(site)) {
    throw new SiteConfigError(`${CONFIG_NAMESPACE}:site: unknown site, expected one of ${SITE_IDS.join(", ")}, got ${showValue(site)}`);
  }
  const rev = configRevisionSchema.safeParse(r.configRevision);
  if (!rev.success) throw toConfigError(`${CONFIG_NAMESPACE}:configRevision`, r.configRevision, rev.error.issues);
  const spec = specSchemas[site as SiteId].safeParse(r.spec);
  if (!spec.success) throw toConfigError(`${CONFIG_NAMESPACE}:spec`, r.spec, spec.error.issues);
  return { site, configRevision: rev.data, spec: spec.data } as SiteConfig;
}
