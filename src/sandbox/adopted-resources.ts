import type { SiteConfig } from "../programs/site-config";
import type { AdoptedResource } from "../programs/site-definition";
import { definitionFor } from "../programs/sites";
import type { SandboxCloud } from "./sandbox-cloud";

export type { AdoptedResource } from "../programs/site-definition";

/**
 * What a site's program adopts with `import` rather than creates: a real run finds these in the
 * site's account, so a fresh sandbox account must hold them too, or a rehearsal would fail where
 * the real run succeeds. Only resources whose identity the stack file states are listed; their
 * inputs are the ones the program declares, so the import matches.
 */
export function adoptedResources(config: SiteConfig): AdoptedResource[] {
  return definitionFor(config).adoptedResources(config.spec);
}

/** Seeds the adopted resources a sandbox account lacks; returns the ids it added. */
export function seedAdoptedResources(cloud: SandboxCloud, config: SiteConfig): string[] {
  const added: string[] = [];
  for (const r of adoptedResources(config)) {
    if (cloud.get(r.type, r.id)) continue;
    cloud.seedExisting(r.type, r.id, r.inputs);
    added.push(r.id);
  }
  return added;
}
