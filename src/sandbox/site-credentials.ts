import { CLOUDS, requiredFields, type Cloud } from "../programs/credentials/clouds";
import { credentialsKey } from "../programs/credentials/site-providers";
import { SITES, type SiteId } from "../programs/sites";

/**
 * A sandbox site's account credentials, one set per site and cloud, as its operator would put them
 * in the stack (`pulumi config set --secret --path credentials:<cloud>.<field>`). The values say
 * "sandbox", which the mode guard never mistakes for a real credential, and name their site, so a
 * provider configured with another site's would show in the call log's fingerprints.
 */
export function sandboxSiteCredentials(site: SiteId): Record<string, Record<string, string>> {
  const clouds = SITES[site].clouds as Partial<Record<Cloud, { objectStorage?: boolean }>>;
  const out: Record<string, Record<string, string>> = {};
  for (const cloud of CLOUDS) {
    const needs = clouds[cloud];
    if (!needs) continue;
    out[credentialsKey(cloud)] = Object.fromEntries(
      requiredFields(cloud, needs).map((field) => [field, `sandbox-${site}-${cloud}-${field}`]),
    );
  }
  return out;
}
