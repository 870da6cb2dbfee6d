import { z } from "zod";
import { readSettingsFile } from "../infra/settings-file";
import { SITE_IDS, type SiteIdOfList as SiteId } from "../programs/site-ids";
import {
  DEFAULT_ALLOWED_SIZES,
  DEFAULT_RESOURCE_CEILINGS,
  FALLBACK_RESOURCE_CEILING,
} from "./policy-defaults";
import { RULES } from "./rules";

const slug = z.string().regex(/^[a-z0-9-]{1,40}$/, "a provider size slug");

/**
 * What a site may tighten or loosen in the resource policy pack. A named setting replaces the
 * default whole: `sizes` lists every catalogue the site may use (a catalogue left out allows nothing).
 */
const siteSchema = z.strictObject({
  /** Catalogue (`digitalocean-droplet`, `digitalocean-database`, `linode-instance`, `hcloud-server`) → allowed slugs. */
  sizes: z
    .partialRecord(z.enum(Object.keys(DEFAULT_ALLOWED_SIZES) as [string, ...string[]]), z.array(slug))
    .optional(),
  /** Resources the site's stack may hold (components and providers included). */
  resourceCeiling: z.int().min(1).max(100_000).optional(),
});

/** STACKYARD_POLICY_FILE: `{ "<site>": { "sizes"?: {...}, "resourceCeiling"?: n } }`. */
export const policyOverridesSchema = z.partialRecord(z.enum(SITE_IDS), siteSchema);
export type PolicyOverrides = z.infer<typeof policyOverridesSchema>;

/** Reads and validates the overrides once at start-up; a bad file stops the service with the key named. */
export function loadPolicyOverrides(file: string | undefined): PolicyOverrides {
  return readSettingsFile("STACKYARD_POLICY_FILE", file, policyOverridesSchema);
}

/**
 * The pack's policy config for one engine run on `site`: the same JSON an operator passes to
 * `pulumi preview --policy-pack policy-pack --policy-pack-config <file>`. `allowUnprotected` names
 * the stateful resources the running operation declared it may delete or replace.
 */
export function packConfigFor(
  site: SiteId,
  overrides: PolicyOverrides,
  allowUnprotected: readonly string[] = [],
): Record<string, unknown> {
  const o = overrides[site] ?? {};
  return {
    [RULES.stateful]: { allowUnprotected: [...allowUnprotected] },
    [RULES.sizes]: { sizes: o.sizes ?? DEFAULT_ALLOWED_SIZES },
    [RULES.ceiling]: {
      ceilings: {
        ...DEFAULT_RESOURCE_CEILINGS,
        ...(o.resourceCeiling === undefined ? {} : { [site]: o.resourceCeiling }),
      },
      fallback: FALLBACK_RESOURCE_CEILING,
    },
  };
}
