import type { SiteConfig } from "../programs/site-config";
import type { SandboxCloud } from "./sandbox-cloud";

/** A resource that exists in a site's account before stackyard manages it. */
export interface AdoptedResource {
  type: string;
  id: string;
  inputs: Record<string, unknown>;
}

/**
 * What a site's program adopts with `import` rather than creates: a real run finds these in the
 * site's account, so a fresh sandbox account must hold them too, or a rehearsal would fail where
 * the real run succeeds. Only resources whose identity the stack file states are listed; their
 * inputs are the ones the program declares, so the import matches.
 */
export function adoptedResources(config: SiteConfig): AdoptedResource[] {
  if (config.site !== "insync") return [];
  const backups = config.spec.mysql.backups;
  // insync_db_backups predates the program, and its "_" name could not be created anew.
  return backups.importId
    ? [
        {
          type: "aws:s3/bucket:Bucket",
          id: backups.importId,
          inputs: { bucket: backups.importId, region: backups.region },
        },
      ]
    : [];
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
