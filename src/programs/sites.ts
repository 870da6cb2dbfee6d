import type { z } from "zod";
import { chitterSite } from "./chitter";
import { datafruitsSite } from "./datafruits";
import { insyncSite } from "./insync";
import type { SiteConfigOf, SiteDefinition } from "./site-definition";
import { SITE_IDS as LEAF_SITE_IDS, type SiteIdOfList } from "./site-ids";
import { theatlSite } from "./theatl";
import { vulpineSite } from "./vulpine";

/**
 * Every site stackyard runs, keyed by its id (the stack name). A site is its folder plus its entry
 * here; everything else (ids, config types, guard and policy defaults) is derived from this table.
 */
export const SITES = {
  vulpine: vulpineSite,
  chitter: chitterSite,
  theatl: theatlSite,
  insync: insyncSite,
  datafruits: datafruitsSite,
} as const;

export type SiteId = keyof typeof SITES;
export const SITE_IDS = LEAF_SITE_IDS as unknown as [SiteId, ...SiteId[]];

// The leaf list of ids names exactly the registry's keys, both ways, or this does not compile.
const sameIds: [SiteId, SiteIdOfList] extends [SiteIdOfList, SiteId] ? true : never = true;
void sameIds;

type SpecOf<K extends SiteId> = z.output<(typeof SITES)[K]["specSchema"]>;

/** The validated stack config of any site, discriminated on `site`. */
export type SiteConfig = { [K in SiteId]: SiteConfigOf<K, SpecOf<K>> }[SiteId];

// Each entry is a complete definition under its own id: a site filed under another key does not compile.
const complete: { readonly [K in SiteId]: SiteDefinition<K, SpecOf<K>> } = SITES;
void complete;

/**
 * The definition of `config`'s site, over the union of every site's spec. TypeScript cannot pair a
 * union's `site` with its `spec` across a lookup, so this is the one place the pairing is asserted.
 */
export function definitionFor(config: SiteConfig): SiteDefinition<SiteId, SiteConfig["spec"]> {
  return SITES[config.site] as unknown as SiteDefinition<SiteId, SiteConfig["spec"]>;
}
