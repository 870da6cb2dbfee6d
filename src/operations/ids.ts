import { randomUUID } from "node:crypto";

/** Operation ids double as BullMQ job ids: a prefix (never all digits) and no `:`. */
export function newOperationId(): string {
  return `op-${randomUUID()}`;
}

export const OPERATION_ID_PATTERN = /^op-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
