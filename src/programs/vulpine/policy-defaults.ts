import type { SitePolicyDefaults } from "../site-definition";

/**
 * vulpine's resource policy defaults. A leaf of its own (no program behind it), so the policy pack
 * reads every site's figures without loading the site programs and their provider SDKs.
 */
export const vulpinePolicyDefaults: SitePolicyDefaults = { resourceCeiling: 60 };
