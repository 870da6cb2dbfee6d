import { z } from "zod";
import type { OperationDefinition, TouchRule } from "./types";

/**
 * A resource as the drift report names it: its URN (`urn:pulumi:<stack>::<project>::<type path>::<name>`)
 * or its logical name alone (the URN's last segment, what a chat user types).
 */
const resourceRef = z
  .string()
  .max(400)
  .regex(
    /^(urn:pulumi:[^:\s]+::[^:\s]+::\S+::\S+|[A-Za-z0-9][A-Za-z0-9._-]{0,199})$/,
    "a URN or a resource name from the drift report",
  );

const params = z.strictObject({
  /**
   * The drifted resources to bring back (`GET /v1/sites/:site/drift`): one, or a list. Bounded so
   * the largest valid request (32 × 400 characters) fits the API's 16 KiB body limit.
   */
  resources: z.union([resourceRef, z.array(resourceRef).min(1).max(32)]),
});
export type RevertDriftParams = z.infer<typeof params>;

/** The resource type a URN names (`…::parent$digitalocean:index/droplet:Droplet::web` → the droplet type); `*` for a bare name. */
export function typeOfRef(ref: string): string {
  if (!ref.startsWith("urn:pulumi:")) return "*";
  const parts = ref.split("::");
  return parts[parts.length - 2]!.split("$").pop()!;
}

/**
 * Put the cloud back as the program says it should be, for resources a detection found changed
 * out of band. The stack file is not changed (only its revision moves on, so the revert is one
 * commit in the history); the `up` applies the program's desired state again. Its blast radius is
 * exactly the named resources, updated in place: anything else in the preview is refused. It waits
 * for approval (approvalKinds) like a failover: it changes production back from what someone did by hand.
 */
export const revertDrift: OperationDefinition<"revert-drift", RevertDriftParams> = {
  kind: "revert-drift",
  description: "Apply the program's desired state back onto resources that drifted out of band.",
  paramsSchema: params,
  // `revert-drift theatl theatl-web`: one resource by name.
  chat: { args: [{ param: "resources" }] },
  plan(config, p) {
    const resources = [...new Set(typeof p.resources === "string" ? [p.resources] : p.resources)];
    const touches: TouchRule[] = [
      { ops: ["update"], types: [...new Set(resources.map(typeOfRef))], resources },
      // Put back in place, a resource may still show its computed outputs as unknown in the preview,
      // and what reads them (a DNS record of its address) an update of unknowns; the up has them known.
      { ops: ["update"], types: ["*"], unknownOnly: true },
    ];
    return {
      kind: "revert-drift",
      site: config.site,
      summary: `revert drift on ${resources.length} resource(s) of ${config.site}: ${resources.map((r) => r.split("::").pop()).join(", ")}`,
      changes: [],
      noop: false,
      nextSpec: config.spec,
      touches,
      liveChecks: [],
    };
  },
};
