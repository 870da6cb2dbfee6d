import { allows, type Principal, type Scope } from "../auth/tokens";
import { ForbiddenError, NotFoundError } from "../errors";
import type { OperationRecord } from "./operation-record";

/** What a caller wants to do with one operation, and the scope it takes. */
export type OperationAction = Extract<Scope, "operations:read" | "operations:cancel" | "operations:approve">;

export const operationNotFound = (id: string) =>
  new NotFoundError("OPERATION_NOT_FOUND", `no operation ${id}`, { field: "id", id });

/**
 * Whether `p` may act on `rec`, decided on the stored record before anything happens to it (a
 * read must not expire an approval for a caller who may not even see the operation). A caller who
 * may not see the operation (no read scope for its site, nor the action's scope for its site and
 * kind) is told it does not exist, exactly as for an unknown id: ids do not leak. One who may see
 * it but not do this gets 403.
 */
export function assertMayAct(
  p: Principal,
  id: string,
  rec: OperationRecord | undefined,
  action: OperationAction,
): OperationRecord {
  const kind = action === "operations:read" ? undefined : rec?.kind;
  if (!rec || !(allows(p, "operations:read", rec.site) || allows(p, action, rec.site, kind)))
    throw operationNotFound(id);
  if (!allows(p, action, rec.site, kind))
    throw new ForbiddenError(p.tokenId, {
      scope: action,
      site: rec.site,
      ...(kind ? { operation: kind } : {}),
    });
  return rec;
}
