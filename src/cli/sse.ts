import type { CliClient } from "./http-client";

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Splits a Server-Sent Events byte stream into events (comments such as keep-alives are skipped). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const e: SseEvent = { event: "message", data: undefined };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "id") e.id = value;
        else if (field === "event") e.event = value;
        else if (field === "data") e.data = JSON.parse(value);
      }
      if (e.data !== undefined || e.event === "end") yield e;
    }
  }
}

/**
 * Follows an operation's events to its end. A dropped connection resumes after the last event
 * seen (Last-Event-ID), a few times, so a proxy's idle timeout does not end the follow.
 */
export async function* followOperation(client: CliClient, id: string): AsyncGenerator<SseEvent> {
  let last: string | undefined;
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = await fetch(`${client.base}/v1/operations/${id}/events`, {
      headers: client.headers(last ? { "last-event-id": last } : {}),
    });
    if (!res.ok || !res.body) throw new Error(`events of ${id}: HTTP ${res.status}`);
    try {
      for await (const e of readSse(res.body)) {
        if (e.event === "end") return;
        if (e.id) last = e.id;
        yield e;
      }
      return;
    } catch (err) {
      if (attempt === 4) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
