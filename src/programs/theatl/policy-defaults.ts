import type { SitePolicyDefaults } from "../site-definition";

/**
 * theatl's resource policy defaults. A leaf of its own (no program behind it), so the policy pack
 * reads every site's figures without loading the site programs and their provider SDKs.
 */
export const theatlPolicyDefaults: SitePolicyDefaults = { resourceCeiling: 150 };
