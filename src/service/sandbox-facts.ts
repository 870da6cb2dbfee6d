import type { PendingCreateVerdict } from "../engine/recovery";
import type { LiveFacts } from "../operations/checks";
import { SandboxCloud } from "../sandbox/sandbox-cloud";

/** In sandbox mode the simulated clouds answer what a live deployment would ask its providers. */
export function sandboxFacts(sandboxDir: string): { facts: LiveFacts; inspectPendingCreate: (urn: string) => PendingCreateVerdict } {
  const cloud = new SandboxCloud(sandboxDir);
  return {
    facts: {
      dbNodes: async (site) =>
        cloud.dbNodes(site).map((n) => ({ name: n.name, role: n.role, replicationLagSeconds: n.replicationLagSeconds, healthy: n.healthy })),
    },
    // A pending create is safe to clear only if the cloud holds no resource under that URN.
    inspectPendingCreate: (urn) => (cloud.list().some((r) => r.urn === urn) ? "present" : "absent"),
  };
}
