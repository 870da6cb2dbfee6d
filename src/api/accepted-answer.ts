import type { Response } from "express";
import type { OperationRecord } from "../operations/operation-record";
import type { QueuePosition, SiteStateReader } from "../operations/site-state";
import { operationLinks } from "./links";

/** What a route that queued an operation answers: the `Accepted` schema of the OpenAPI document. */
export async function sendAccepted(
  res: Response,
  siteState: SiteStateReader,
  accepted: { record: OperationRecord; created: boolean },
  extraLinks: Record<string, string> = {},
): Promise<void> {
  const { record, created } = accepted;
  res
    .status(created ? 202 : 200)
    .location(`/v1/operations/${record.id}`)
    .json({
      id: record.id,
      status: record.status,
      operation: record.kind,
      site: record.site,
      plan: record.plan,
      ...(record.approval ? { approval: record.approval } : {}),
      ...(await queueField(siteState, record)),
      links: { ...operationLinks(record), ...extraLinks },
    });
}

/** The record's place in its stack's queue, when it is waiting there. */
export async function queueField(
  siteState: SiteStateReader,
  rec: Parameters<SiteStateReader["queuePosition"]>[0],
): Promise<{ queue?: QueuePosition }> {
  const queue = await siteState.queuePosition(rec);
  return queue ? { queue } : {};
}
