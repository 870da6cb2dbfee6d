import * as path from "node:path";
import type { PendingCreateVerdict } from "../engine/recovery";
import type { LiveFacts } from "../operations/live-db-node";
import { SandboxCloud } from "../sandbox/sandbox-cloud";

/**
 * Each site is its own cloud account (as in reality: the five sites share no provider account), so
 * in the sandbox each gets its own simulated cloud under `<sandboxDir>/<site>`.
 */
export function sandboxDirFor(sandboxDir: string, site: string): string {
  return path.join(sandboxDir, site);
}

/** In sandbox mode the simulated clouds answer what a live deployment would ask its providers. */
export function sandboxFacts(sandboxDir: string): {
  facts: LiveFacts;
  inspectPendingCreate: (site: string, urn: string) => PendingCreateVerdict;
} {
  const cloud = (site: string) => new SandboxCloud(sandboxDirFor(sandboxDir, site));
  return {
    facts: {
      dbNodes: async (site) =>
        cloud(site)
          .dbNodes(site)
          .map((n) => ({
            name: n.name,
            role: n.role,
            replicationLagSeconds: n.replicationLagSeconds,
            healthy: n.healthy,
          })),
    },
    // A pending create is safe to clear only if the cloud holds no resource under that URN.
    inspectPendingCreate: (site, urn) => {
      const rec = cloud(site)
        .list()
        .find((r) => r.urn === urn);
      return rec ? { state: "present", id: rec.id } : { state: "absent" };
    },
  };
}
