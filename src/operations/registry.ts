import { z } from "zod";
import { addReadReplica } from "./add-read-replica";
import { detectDrift } from "./detect-drift";
import { failover } from "./failover";
import { removeReadReplica } from "./remove-read-replica";
import { revertDrift } from "./revert-drift";
import { scaleSidekiq } from "./scale-sidekiq";
import type { OperationDefinition } from "./types";

/**
 * Every operation the service knows, in the order help texts list them. Adding one = its file and
 * one entry here: the kinds, the request schema (and so the OpenAPI document), the token and
 * chat-user scopes, the guard settings and the chat grammar all follow from this list.
 */
export const DEFINITIONS = [
  scaleSidekiq,
  addReadReplica,
  removeReadReplica,
  failover,
  detectDrift,
  revertDrift,
] as const;

type Definition = (typeof DEFINITIONS)[number];
export type OperationKind = Definition["kind"];

/** A tuple of definitions mapped to the tuple of their kinds (mapped types keep tuples when generic). */
type KindsOf<T extends readonly Definition[]> = {
  [I in keyof T]: T[I] extends { kind: infer K } ? K : never;
};

/** The kinds as a runtime tuple, for `z.enum` wherever a kind is configured or asked for. */
export const OPERATION_KINDS = Object.freeze(DEFINITIONS.map((d) => d.kind)) as KindsOf<typeof DEFINITIONS>;

/** The definition of each kind, its params unnamed: callers validate with its `paramsSchema` first. */
export const OPERATIONS = Object.fromEntries(DEFINITIONS.map((d) => [d.kind, d])) as {
  [K in OperationKind]: OperationDefinition<K, any>;
};

/** One `{ operation, params }` per definition (the conditional distributes over the union). */
type RequestOf<D extends Definition> = D extends unknown
  ? { operation: D["kind"]; params: z.output<D["paramsSchema"]>; rehearse?: boolean }
  : never;
/** The body of `POST /v1/sites/:site/operations`, discriminated on `operation`. */
export type OperationRequest = RequestOf<Definition>;

/** `"rehearse": true` runs the whole operation on a sandbox twin of the site (docs/operations.md, "Rehearsal"). */
const rehearseSchema = z
  .boolean()
  .optional()
  .describe(
    "true: run the operation on a sandbox twin of the site (its state copied, simulated providers); nothing live changes",
  );

const requestSchemaOf = (d: OperationDefinition<OperationKind, any>) =>
  z.strictObject({
    operation: z.literal(d.kind),
    params: d.defaultParams === undefined ? d.paramsSchema : d.paramsSchema.default(d.defaultParams),
    rehearse:
      d.run === "drift"
        ? rehearseSchema.refine((v) => v !== true, {
            message: `${d.kind} changes nothing: there is nothing to rehearse`,
          })
        : rehearseSchema,
  });
type RequestSchema = ReturnType<typeof requestSchemaOf>;

/** Strict; `params` may be omitted only for an operation that declares `defaultParams`. */
export const operationRequestSchema: z.ZodType<OperationRequest> = z.discriminatedUnion(
  "operation",
  DEFINITIONS.map(requestSchemaOf) as [RequestSchema, ...RequestSchema[]],
);
