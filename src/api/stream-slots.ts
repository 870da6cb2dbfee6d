import { TooManyStreamsError } from "../errors";

/**
 * Concurrent event streams per token in this API process. A stream costs no Redis connection of
 * its own (they share one reader), but each holds a socket and a place in that reader's XREAD.
 */
export class StreamSlots {
  private readonly open = new Map<string, number>();

  /** @param perToken streams one token may hold at once (STACKYARD_SSE_STREAMS_PER_TOKEN). */
  constructor(readonly perToken: number) {}

  /** Takes a slot or throws 429; the returned function gives it back (idempotent). */
  take(tokenId: string): () => void {
    const n = this.open.get(tokenId) ?? 0;
    if (n >= this.perToken) throw new TooManyStreamsError(tokenId, this.perToken);
    this.open.set(tokenId, n + 1);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = (this.open.get(tokenId) ?? 1) - 1;
      if (left > 0) this.open.set(tokenId, left);
      else this.open.delete(tokenId);
    };
  }

  held(tokenId: string): number {
    return this.open.get(tokenId) ?? 0;
  }
}
