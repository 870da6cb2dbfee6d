import type { OperationRecord } from "../operations/operation-record";

export function operationLinks(rec: Pick<OperationRecord, "id" | "site">) {
  return {
    self: `/v1/operations/${rec.id}`,
    events: `/v1/operations/${rec.id}/events`,
    cancel: `/v1/operations/${rec.id}/cancel`,
    site: `/v1/sites/${rec.site}`,
  };
}
