import type { SitePolicyDefaults } from "../site-definition";

/**
 * chitter's resource policy defaults. A leaf of its own (no program behind it), so the policy pack
 * reads every site's figures without loading the site programs and their provider SDKs.
 */
export const chitterPolicyDefaults: SitePolicyDefaults = { resourceCeiling: 80 };
