/** An API answer the CLI could not use: the service's error code and message, shown as they are. */
export class CliHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The operator's side of the HTTP API: a bearer token from STACKYARD_TOKEN, never on the command line. */
export class CliClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  async json(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(this.base + path, {
      method,
      headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok)
      throw new CliHttpError(
        res.status,
        parsed?.error?.code ?? `HTTP_${res.status}`,
        parsed?.error?.message ?? text.slice(0, 200),
      );
    return parsed;
  }
}
