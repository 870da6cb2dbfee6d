import { chitterPolicyDefaults } from "./chitter/policy-defaults";
import { datafruitsPolicyDefaults } from "./datafruits/policy-defaults";
import { insyncPolicyDefaults } from "./insync/policy-defaults";
import { theatlPolicyDefaults } from "./theatl/policy-defaults";
import { vulpinePolicyDefaults } from "./vulpine/policy-defaults";
import type { SiteIdOfList } from "./site-ids";
import type { SitePolicyDefaults } from "./site-definition";

/**
 * Every site's resource policy defaults, by id, without the programs: what the policy pack reads.
 * The same objects are each site definition's `policyDefaults`.
 */
export const SITE_POLICY_DEFAULTS: { readonly [K in SiteIdOfList]: SitePolicyDefaults } = {
  vulpine: vulpinePolicyDefaults,
  chitter: chitterPolicyDefaults,
  theatl: theatlPolicyDefaults,
  insync: insyncPolicyDefaults,
  datafruits: datafruitsPolicyDefaults,
};
