import IORedis from "ioredis";
import { Ledger, type LedgerEvent } from "../../../src/operations/ledger";

/**
 * Waits until an operation's event stream holds an event that `match` accepts (the run announces
 * its phases, the worker says when it signalled a cancel), so a test acts at a known point of a
 * run instead of after a guessed sleep.
 */
export async function waitForEvent(
  redisUrl: string,
  operationId: string,
  match: (e: LedgerEvent) => boolean,
  timeoutMs = 120_000,
): Promise<LedgerEvent> {
  const redis = new IORedis(redisUrl);
  try {
    const ledger = new Ledger(redis);
    const until = Date.now() + timeoutMs;
    let cursor = "0";
    for (;;) {
      for (const e of await ledger.readEvents(operationId, cursor, 0)) {
        cursor = e.id;
        if (match(e)) return e;
      }
      if (Date.now() > until)
        throw new Error(`operation ${operationId}: no matching event within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    redis.disconnect();
  }
}

/** Every event of an operation, in order. */
export async function allEvents(redisUrl: string, operationId: string): Promise<LedgerEvent[]> {
  const redis = new IORedis(redisUrl);
  try {
    const ledger = new Ledger(redis);
    const out: LedgerEvent[] = [];
    for (
      let batch = await ledger.readEvents(operationId, "0", 0);
      batch.length > 0;
      batch = await ledger.readEvents(operationId, out[out.length - 1]!.id, 0)
    )
      out.push(...batch);
    return out;
  } finally {
    redis.disconnect();
  }
}

export const isPhase = (phase: string) => (e: LedgerEvent) => e.type === "phase" && e.data.phase === phase;
