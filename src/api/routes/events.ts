import { Router } from "express";
import type IORedis from "ioredis";
import type { Ledger } from "../../operations/ledger";
import type { OperationService } from "../../operations/operation-service";
import { isTerminal, type OperationStatus } from "../../operations/operation-record";
import { readable } from "./operations";

/**
 * `GET /v1/operations/:id/events`: the operation's event stream as Server-Sent Events. Replays
 * from the start (or after `Last-Event-ID`), then follows live until the operation ends.
 */
export function eventRoutes(ops: OperationService, ledger: Ledger, redis: IORedis, heartbeatMs = 15_000): Router {
  const r = Router();
  r.get("/v1/operations/:id/events", async (req, res) => {
    const rec = await readable(ops, req);
    const lastId = req.header("last-event-id");
    let cursor = lastId && /^\d+-\d+$/.test(lastId) ? lastId : "0";
    res.status(200).set({ "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive", "X-Accel-Buffering": "no" });
    res.flushHeaders();

    // Blocking reads need their own connection; it is closed when the client goes away.
    const conn = redis.duplicate();
    conn.on("error", () => undefined); // a dropped stream ends the response below; nothing to report
    let open = true;
    req.on("close", () => {
      open = false;
      conn.disconnect();
    });
    const beat = setInterval(() => open && res.write(": keep-alive\n\n"), heartbeatMs);
    try {
      let done = false;
      while (open && !done) {
        const events = await ledger.readEvents(rec.id, cursor, 2_000, conn).catch(() => [] as never[]);
        for (const e of events) {
          res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
          cursor = e.id;
          if (e.type === "status" && isTerminal(e.data.status as OperationStatus)) done = true;
        }
        if (!done && events.length === 0) {
          // The terminal event may predate this connection's cursor window: check the record itself.
          const now = await ledger.get(rec.id);
          if (now && isTerminal(now.status)) {
            const rest = await ledger.readEvents(rec.id, cursor, 0);
            for (const e of rest) res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`);
            done = true;
          }
        }
      }
      if (open) res.write(`event: end\ndata: {}\n\n`);
    } finally {
      clearInterval(beat);
      conn.disconnect();
      res.end();
    }
  });
  return r;
}
