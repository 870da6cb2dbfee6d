import { z } from "zod";
import { GuardRefusedError, OperationUnsupportedError } from "../errors";
import { nodeNameSchema } from "./common-schemas";
import { DB_TOPOLOGY_TOUCHES } from "./db-touches";
import { dbKnob } from "./knobs/db-knob";
import { FAILOVER_MAX_LAG_SECONDS, FAILOVER_MAX_REPLAY_GAP_BYTES } from "./limits";
import { specDiff } from "./spec-diff";
import type { OperationDefinition } from "./types";

const params = z.strictObject({
  /** The standby to promote; defaults to the only standby when there is exactly one. */
  target: nodeNameSchema.optional(),
  /** Promote even if the standby lags more than the limit (recorded on the operation). */
  acceptDataLoss: z.boolean().default(false),
  reason: z.string().min(1).max(500).optional(),
});
export type FailoverParams = z.infer<typeof params>;

/**
 * Promote a standby. In config this is one flip of `primary`: the promoted node leaves the standby
 * set and the old primary, in neither knob, is fenced by the program (its role tag no longer
 * matches the firewall that admits the apps), while the private DNS name / connection config the
 * apps use moves to the new primary in the same update. Both can never accept app writes at once.
 */
export const failover: OperationDefinition<"failover", FailoverParams> = {
  kind: "failover",
  description: "Promote a hot standby, repoint the apps at it, and fence the old primary.",
  paramsSchema: params,
  // `{ "operation": "failover" }` alone promotes the only standby, accepting no data loss.
  defaultParams: { acceptDataLoss: false },
  chat: { args: [{ param: "target", optional: true }] },
  hosts: "db-topology",
  plan(config, p) {
    const r = dbKnob(config);
    if (!r.ok) throw new OperationUnsupportedError(config.site, "failover", r.reason);
    const knob = r.knob;
    if (p.target !== undefined && p.target === knob.primary) {
      // Idempotent: a retried failover finds its target already primary.
      return {
        kind: "failover",
        site: config.site,
        summary: `${p.target} is already the primary of ${config.site}`,
        changes: [],
        noop: true,
        nextSpec: config.spec,
        touches: DB_TOPOLOGY_TOUCHES,
        liveChecks: [],
      };
    }
    if (knob.replicas.length === 0) {
      throw new GuardRefusedError(
        "no-standby",
        `${config.site} has no standby to promote (primary ${knob.primary})`,
        { field: "params.target" },
      );
    }
    const target = p.target ?? (knob.replicas.length === 1 ? knob.replicas[0]! : undefined);
    if (target === undefined) {
      throw new GuardRefusedError(
        "target-required",
        `${config.site} has several standbys (${knob.replicas.join(", ")}); name one in params.target`,
        {
          field: "params.target",
          limit: knob.replicas,
        },
      );
    }
    if (!knob.replicas.includes(target)) {
      throw new GuardRefusedError(
        "target-not-standby",
        `"${target}" is not a standby of ${config.site} (standbys: ${knob.replicas.join(", ")})`,
        {
          field: "params.target",
          value: target,
          limit: knob.replicas,
        },
      );
    }
    const nextSpec = knob.withPrimary(target);
    return {
      kind: "failover",
      site: config.site,
      summary: `fail ${config.site} over from ${knob.primary} to ${target}; fence ${knob.primary}`,
      changes: specDiff(config.spec, nextSpec),
      noop: false,
      nextSpec,
      touches: DB_TOPOLOGY_TOUCHES,
      liveChecks: [
        {
          kind: "standby-ready",
          node: target,
          maxLagSeconds: FAILOVER_MAX_LAG_SECONDS,
          maxReplayGapBytes: FAILOVER_MAX_REPLAY_GAP_BYTES,
          acceptDataLoss: p.acceptDataLoss,
        },
      ],
    };
  },
};
