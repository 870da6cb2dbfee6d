import { z } from "zod";
import type { OperationDefinition, TouchRule } from "./types";

/** `urn:pulumi:<stack>::<project>::<type path>::<name>`; the type path ends with the resource's type. */
const urnSchema = z
  .string()
  .max(1000)
  .regex(/^urn:pulumi:[^:]+::[^:]+::[^\s]+::[^\s]+$/, "a Pulumi URN (from the drift report)");

const params = z.strictObject({
  /** The drifted resources to bring back, as the drift report names them (`GET /v1/sites/:site/drift`). */
  urns: z.array(urnSchema).min(1).max(200),
});
export type RevertDriftParams = z.infer<typeof params>;

/** The resource type a URN names (`…::parent$digitalocean:index/droplet:Droplet::web` → the droplet type). */
export function typeOfUrn(urn: string): string {
  const parts = urn.split("::");
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
  chat: { args: [] },
  plan(config, p) {
    const urns = [...new Set(p.urns)];
    const touches: TouchRule[] = [{ ops: ["update"], types: [...new Set(urns.map(typeOfUrn))], urns }];
    return {
      kind: "revert-drift",
      site: config.site,
      summary: `revert drift on ${urns.length} resource(s) of ${config.site}`,
      changes: [],
      noop: false,
      nextSpec: config.spec,
      touches,
      liveChecks: [],
    };
  },
};
