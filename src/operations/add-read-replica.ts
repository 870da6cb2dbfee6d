import { z } from "zod";
import { GuardRefusedError, OperationUnsupportedError } from "../errors";
import { nodeNameSchema, sizeSlugSchema } from "./common-schemas";
import { ADD_REPLICA_TOUCHES } from "./db-touches";
import { dbKnob } from "./knobs/db-knob";
import { specDiff } from "./spec-diff";
import type { OperationDefinition } from "./types";

const params = z.strictObject({
  /** The new replica's node name (a fenced node of that name rejoins as a standby). */
  name: nodeNameSchema,
  /** Size slug; defaults to the primary's, so the replica can take over as primary. */
  size: sizeSlugSchema.optional(),
  /** Data volume (self-managed PostgreSQL); defaults to the primary's. */
  volumeGb: z.int().min(10).max(16000).optional(),
});
export type AddReadReplicaParams = z.infer<typeof params>;

export const addReadReplica: OperationDefinition<"add-read-replica", AddReadReplicaParams> = {
  kind: "add-read-replica",
  description: "Add a streaming read replica of the primary (same region and private network).",
  paramsSchema: params,
  chat: { args: [{ param: "name" }, { param: "size", optional: true }] },
  hosts: "db-topology",
  plan(config, p) {
    const r = dbKnob(config);
    if (!r.ok) throw new OperationUnsupportedError(config.site, "add-read-replica", r.reason);
    const knob = r.knob;
    if (p.name === knob.primary) {
      throw new GuardRefusedError(
        "replica-is-primary",
        `"${p.name}" is the primary of ${config.site}; a replica needs another name`,
        {
          field: "params.name",
          value: p.name,
        },
      );
    }
    const already = knob.replicas.includes(p.name);
    // The replica limit is an operation guard (src/operations/guards/replica-limit.ts).
    const nextSpec = knob.withReplica(p.name, { size: p.size, volumeGb: p.volumeGb });
    const changes = specDiff(config.spec, nextSpec);
    return {
      kind: "add-read-replica",
      site: config.site,
      summary: already
        ? `${p.name} is already a replica of ${knob.primary} on ${config.site}`
        : `add ${knob.engine} read replica ${p.name} of ${knob.primary} on ${config.site}`,
      changes,
      noop: changes.length === 0,
      nextSpec,
      touches: ADD_REPLICA_TOUCHES,
      liveChecks: [{ kind: "primary-is", node: knob.primary }],
    };
  },
};
