import { Router, type Request, type Response } from "express";
import type { LedgerEvent } from "../../operations/ledger";
import type { OperationService } from "../../operations/operation-service";
import type { SharedEventReader } from "../../operations/event-reader";
import type { StreamSlots } from "../stream-slots";
import { readable } from "./operations";

export interface EventRouteDeps {
  operations: OperationService;
  /** The process's one reader of every followed event stream. */
  reader: SharedEventReader;
  /** Concurrent streams per token (over it: 429 TOO_MANY_STREAMS). */
  slots: StreamSlots;
  /** @defaultValue 15000 */
  heartbeatMs?: number;
}

/**
 * `GET /v1/operations/:id/events`: the operation's event stream as Server-Sent Events. Replays
 * from the start (or after `Last-Event-ID`), then follows live until the operation ends.
 */
export function eventRoutes(deps: EventRouteDeps): Router {
  const r = Router();
  r.get("/v1/operations/:id/events", async (req, res) => {
    const rec = await readable(deps.operations, req);
    streamOperationEvents(deps, rec.id, req.principal!.tokenId, req, res);
  });
  return r;
}

/**
 * Streams one operation's events to `res` as Server-Sent Events, for a caller already allowed to
 * read it (the API's bearer route above, the dashboard's session route): one stream slot of
 * `tokenId` while it lasts.
 */
export function streamOperationEvents(
  deps: Omit<EventRouteDeps, "operations">,
  operationId: string,
  tokenId: string,
  req: Request,
  res: Response,
): void {
  const release = deps.slots.take(tokenId);
  const lastId = req.header("last-event-id");
  const cursor = lastId && /^\d+-\d+$/.test(lastId) ? lastId : "0";
  res.status(200).set({
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();

  const write = (e: LedgerEvent) =>
    res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
  const beat = setInterval(() => res.write(": keep-alive\n\n"), deps.heartbeatMs ?? 15_000);
  const finish = (ended: boolean) => {
    clearInterval(beat);
    unfollow();
    release();
    if (ended && !res.writableEnded) res.end(`event: end\ndata: {}\n\n`);
    else if (!res.writableEnded) res.end();
  };
  const unfollow = deps.reader.follow(operationId, cursor, {
    onEvents: (events) => events.forEach(write),
    onEnd: () => finish(true),
  });
  res.on("close", () => finish(false));
}
