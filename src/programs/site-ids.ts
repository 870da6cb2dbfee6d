/**
 * The ids of the sites stackyard runs (the stack names), in the registry's order. A leaf, for the
 * processes that need the ids and none of the programs (the policy pack); `sites.ts` fails to
 * compile if this list and its registry ever differ.
 */
export const SITE_IDS = ["vulpine", "chitter", "theatl", "insync", "datafruits"] as const;

export type SiteIdOfList = (typeof SITE_IDS)[number];
