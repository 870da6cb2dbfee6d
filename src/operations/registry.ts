import { z } from "zod";
import { addReadReplica } from "./add-read-replica";
import { failover } from "./failover";
import { removeReadReplica } from "./remove-read-replica";
import { scaleSidekiq } from "./scale-sidekiq";
import type { OperationDefinition, OperationKind } from "./types";

/** Every operation the service knows, by kind. Adding one = one file + one line here. */
export const OPERATIONS: { [K in OperationKind]: OperationDefinition<any> } = {
  "scale-sidekiq": scaleSidekiq,
  "add-read-replica": addReadReplica,
  "remove-read-replica": removeReadReplica,
  failover,
};

/** The body of `POST /v1/sites/:site/operations`, discriminated on `operation`. */
export const operationRequestSchema = z.discriminatedUnion("operation", [
  z.strictObject({ operation: z.literal("scale-sidekiq"), params: scaleSidekiq.paramsSchema }),
  z.strictObject({ operation: z.literal("add-read-replica"), params: addReadReplica.paramsSchema }),
  z.strictObject({ operation: z.literal("remove-read-replica"), params: removeReadReplica.paramsSchema }),
  z.strictObject({
    operation: z.literal("failover"),
    params: failover.paramsSchema.default({ acceptDataLoss: false }),
  }),
]);
export type OperationRequest = z.infer<typeof operationRequestSchema>;
