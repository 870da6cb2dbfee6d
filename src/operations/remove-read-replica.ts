import { z } from "zod";
import { GuardRefusedError, OperationUnsupportedError } from "../errors";
import { nodeNameSchema } from "./common-schemas";
import { REMOVE_REPLICA_TOUCHES } from "./db-touches";
import { dbKnob } from "./knobs/db-knob";
import { specDiff } from "./spec-diff";
import type { OperationDefinition } from "./types";

const params = z.strictObject({
  name: nodeNameSchema,
  /** Removing the last standby leaves no failover target; it must be said out loud. */
  allowNoStandby: z.boolean().default(false),
});
export type RemoveReadReplicaParams = z.infer<typeof params>;

export const removeReadReplica: OperationDefinition<"remove-read-replica", RemoveReadReplicaParams> = {
  kind: "remove-read-replica",
  description:
    "Stop using a read replica. A managed replica is deleted; a self-managed host leaves replication and is fenced (kept, protected) for an operator to decommission.",
  paramsSchema: params,
  chat: { args: [{ param: "name" }] },
  hosts: "db-topology",
  plan(config, p) {
    const r = dbKnob(config);
    if (!r.ok) throw new OperationUnsupportedError(config.site, "remove-read-replica", r.reason);
    const knob = r.knob;
    if (p.name === knob.primary) {
      throw new GuardRefusedError(
        "replica-is-primary",
        `"${p.name}" is the primary of ${config.site}; fail over first`,
        {
          field: "params.name",
          value: p.name,
        },
      );
    }
    const present = knob.replicas.includes(p.name);
    if (present && knob.replicas.length === 1 && !p.allowNoStandby) {
      throw new GuardRefusedError(
        "last-standby",
        `${p.name} is the last standby of ${config.site}; removing it leaves no failover target (set params.allowNoStandby to confirm)`,
        { field: "params.allowNoStandby", value: false },
      );
    }
    const nextSpec = knob.withoutReplica(p.name);
    const changes = specDiff(config.spec, nextSpec);
    return {
      kind: "remove-read-replica",
      site: config.site,
      summary: present
        ? `remove read replica ${p.name} from ${config.site}`
        : `${p.name} is not a replica of ${config.site} (nothing to do)`,
      changes,
      noop: changes.length === 0,
      nextSpec,
      touches: REMOVE_REPLICA_TOUCHES,
      liveChecks: [],
      // A managed replica is deleted: the one stateful resource this operation declares.
      allowUnprotected: present && knob.engine === "managed-postgres" ? [p.name] : [],
    };
  },
};
