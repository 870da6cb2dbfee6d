import { z } from "zod";
import { GuardRefusedError, OperationUnsupportedError } from "../errors";
import type { SidekiqSpec } from "../programs/config/sidekiq";
import { sidekiqKnob } from "./knobs/sidekiq-knob";
import { nodeNameSchema } from "./common-schemas";
import { specDiff } from "./spec-diff";
import type { OperationDefinition, TouchRule } from "./types";

const params = z.strictObject({
  /** Processes in the pool after the operation (the scheduler process is separate and never scaled). */
  count: z.int().min(1).max(100),
  /** Which pool (queue split) to scale; may be omitted when the site has exactly one. */
  pool: nodeNameSchema.optional(),
});
export type ScaleSidekiqParams = z.infer<typeof params>;

/** What a sidekiq scale may touch per substrate: the worker machines or the worker Deployment, nothing stateful. */
const TOUCHES: TouchRule[] = [
  { ops: ["create", "delete"], types: ["digitalocean:index/droplet:Droplet"] },
  {
    ops: ["update"],
    types: [
      "digitalocean:index/projectResources:ProjectResources",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:ConfigMap",
      "command:remote:Command",
      "linode:index/instance:Instance",
      "hcloud:index/server:Server",
      "aws:s3/bucketObjectv2:BucketObjectv2",
      "linode:index/objectStorageObject:ObjectStorageObject",
      "stackyard:*",
    ],
  },
  {
    ops: ["create", "delete", "update", "replace"],
    types: ["aws:s3/bucketObjectv2:BucketObjectv2", "linode:index/objectStorageObject:ObjectStorageObject"],
  },
];

export const scaleSidekiq: OperationDefinition<"scale-sidekiq", ScaleSidekiqParams> = {
  kind: "scale-sidekiq",
  description:
    "Set the number of sidekiq processes in one pool; the singleton scheduler process is never scaled.",
  paramsSchema: params,
  chat: {
    args: [
      { param: "count", type: "integer" },
      { param: "pool", optional: true },
    ],
  },
  plan(config, p) {
    const knob = sidekiqKnob(config);
    if (!knob.ok) throw new OperationUnsupportedError(config.site, "scale-sidekiq", knob.reason);
    const pools = Object.keys(knob.spec.pools);
    const pool = p.pool ?? (pools.length === 1 ? pools[0]! : undefined);
    if (pool === undefined) {
      throw new GuardRefusedError(
        "pool-required",
        `${config.site} has several sidekiq pools (${pools.join(", ")}); name one in params.pool`,
        {
          field: "params.pool",
          limit: pools,
        },
      );
    }
    const current = knob.spec.pools[pool];
    if (!current) {
      throw new GuardRefusedError(
        "pool-unknown",
        `${config.site} has no sidekiq pool "${pool}" (pools: ${pools.join(", ")})`,
        {
          field: "params.pool",
          value: pool,
          limit: pools,
        },
      );
    }
    // Bounds, the connection budget and the cost ceiling are operation guards (src/operations/guards/).
    const nextSidekiq: SidekiqSpec = structuredClone(knob.spec);
    nextSidekiq.pools[pool]!.count = p.count;
    const nextSpec = { ...structuredClone(config.spec), [knob.path]: nextSidekiq } as typeof config.spec;
    const changes = specDiff(config.spec, nextSpec);
    return {
      kind: "scale-sidekiq",
      site: config.site,
      summary: `scale ${config.site} sidekiq pool "${pool}" from ${current.count} to ${p.count} process(es)`,
      changes,
      noop: changes.length === 0,
      nextSpec,
      touches: TOUCHES,
      liveChecks: [],
    };
  },
};
