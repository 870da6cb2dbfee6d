import { SITE_IDS } from "../programs/site-ids";
import { SITE_POLICY_DEFAULTS } from "../programs/site-policy-defaults";

/**
 * Defaults of the resource policy pack, overridable with policy config. Sizes are the catalogue
 * entries the seeds' sites run or could grow into (research/domain.md §4); anything else is a
 * typo or an expensive surprise.
 */
export const DEFAULT_ALLOWED_SIZES: Readonly<Record<string, readonly string[]>> = {
  "digitalocean-droplet": [
    "s-1vcpu-512mb-10gb",
    "s-1vcpu-1gb",
    "s-1vcpu-2gb",
    "s-2vcpu-2gb",
    "s-2vcpu-4gb",
    "s-4vcpu-8gb",
    "s-8vcpu-16gb",
    "s-2vcpu-4gb-amd",
    "s-2vcpu-8gb-amd",
    "c-2",
  ],
  "digitalocean-database": ["db-s-1vcpu-1gb", "db-s-1vcpu-2gb", "db-s-2vcpu-4gb", "db-s-4vcpu-8gb"],
  "linode-instance": [
    "g6-nanode-1",
    "g6-standard-1",
    "g6-standard-2",
    "g6-standard-4",
    "g6-standard-6",
    "g6-dedicated-2",
  ],
  "hcloud-server": ["cx22", "cx32", "cx33", "cpx21", "cpx31", "cpx41", "ccx13", "ccx23", "ccx33"],
};

/**
 * Per-site ceilings on resource count, from each site's definition: about twice what each site's
 * program registers today, so an operation has room and a runaway loop does not.
 */
export const DEFAULT_RESOURCE_CEILINGS: Readonly<Record<string, number>> = Object.fromEntries(
  SITE_IDS.map((s) => [s, SITE_POLICY_DEFAULTS[s].resourceCeiling]),
);

/** For a stack whose resources name no site (every site has its own ceiling above). */
export const FALLBACK_RESOURCE_CEILING = 100;
