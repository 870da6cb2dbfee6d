/** A tiny HTTP client for the service under test: every answer, never a throw on 4xx/5xx. */
export class ApiClient {
  constructor(
    readonly base: string,
    private readonly token?: string,
  ) {}

  async request(
    method: string,
    p: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(this.base + p, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // SSE or plain text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  post(p: string, body?: unknown, headers?: Record<string, string>) {
    return this.request("POST", p, body, headers);
  }

  get(p: string) {
    return this.request("GET", p);
  }

  /**
   * Follows a running operation's event stream (SSE) until its text matches `pattern`; true if it
   * did within `timeoutMs`, false if the stream ended or the time ran out first.
   */
  async untilEvent(id: string, pattern: RegExp, timeoutMs = 300_000): Promise<boolean> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    let text = "";
    try {
      const res = await fetch(`${this.base}/v1/operations/${id}/events`, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: ac.signal,
      });
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString("utf8");
        if (pattern.test(text)) return true;
      }
    } catch {
      // aborted: the time ran out
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    return pattern.test(text);
  }

  /** Submits and waits for the operation to end; returns the final record. */
  async run(
    site: string,
    operation: string,
    params: Record<string, unknown>,
    timeoutMs = 300_000,
  ): Promise<any> {
    const r = await this.post(`/v1/sites/${site}/operations`, { operation, params });
    if (r.status !== 202)
      throw new Error(`submit ${operation} on ${site}: ${r.status} ${JSON.stringify(r.body)}`);
    return this.waitFor(r.body.id, timeoutMs);
  }

  /**
   * Submits an operation that waits for approval (failover by default), approves it as `approver`
   * once its preview is done, and waits for the end. Returns the final record.
   */
  async runApproved(
    site: string,
    operation: string,
    params: Record<string, unknown>,
    approver: ApiClient,
    timeoutMs = 300_000,
  ): Promise<any> {
    const r = await this.post(`/v1/sites/${site}/operations`, { operation, params });
    if (r.status !== 202)
      throw new Error(`submit ${operation} on ${site}: ${r.status} ${JSON.stringify(r.body)}`);
    const waiting = await this.waitFor(r.body.id, timeoutMs, ["awaiting-approval"]);
    if (waiting.status !== "awaiting-approval") return waiting;
    const a = await approver.post(`/v1/operations/${r.body.id}/approve`);
    if (a.status !== 202) throw new Error(`approve ${r.body.id}: ${a.status} ${JSON.stringify(a.body)}`);
    return this.waitFor(r.body.id, timeoutMs);
  }

  async waitFor(id: string, timeoutMs = 300_000, alsoStopAt: string[] = []): Promise<any> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.get(`/v1/operations/${id}`);
      if (["succeeded", "failed", "cancelled", "expired", ...alsoStopAt].includes(r.body?.status))
        return r.body;
      if (Date.now() > until)
        throw new Error(`operation ${id} still ${r.body?.status} after ${timeoutMs} ms`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}
