import { SITES, SITE_IDS, type SiteConfig, type SiteId } from "../sites";
import { configRevisionSchema } from "./common";
import { SiteConfigError, showValue, toConfigError } from "./errors";

export { SITE_IDS, type SiteConfig, type SiteId } from "../sites";
export { SiteConfigError } from "./errors";

/** The config namespace every stackyard key lives in. */
export const CONFIG_NAMESPACE = "stackyard";

/**
 * The raw shape: `{ site, configRevision, spec }`, i.e. the `stackyard:*` keys of a stack file with
 * the namespace stripped. Unknown `stackyard:*` keys are refused so a typo cannot hide a knob.
 */
export function parseSiteConfig(raw: unknown): SiteConfig {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SiteConfigError(
      `${CONFIG_NAMESPACE}: expected an object of stackyard:* keys, got ${showValue(raw)}`,
    );
  }
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !["site", "configRevision", "spec"].includes(k));
  if (extra.length > 0) {
    throw new SiteConfigError(
      `${CONFIG_NAMESPACE}:${extra[0]}: unknown key (known: site, configRevision, spec)`,
    );
  }
  const site = r.site;
  if (typeof site !== "string" || !(SITE_IDS as readonly string[]).includes(site)) {
    throw new SiteConfigError(
      `${CONFIG_NAMESPACE}:site: unknown site, expected one of ${SITE_IDS.join(", ")}, got ${showValue(site)}`,
    );
  }
  const rev = configRevisionSchema.safeParse(r.configRevision);
  if (!rev.success)
    throw toConfigError(`${CONFIG_NAMESPACE}:configRevision`, r.configRevision, rev.error.issues);
  const spec = SITES[site as SiteId].specSchema.safeParse(r.spec);
  if (!spec.success) throw toConfigError(`${CONFIG_NAMESPACE}:spec`, r.spec, spec.error.issues);
  return { site, configRevision: rev.data, spec: spec.data } as SiteConfig;
}
