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

/** The operator's side of the HTTP API: a bearer token from STACKYARD_TOKEN or the local file, never on the command line. */
export class CliClient {
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  /** A plain-text answer (`Accept: text/plain`), e.g. a site's state in the lines chat shows too. */
  async text(method: string, path: string): Promise<string> {
    const res = await fetch(this.base + path, { method, headers: this.headers({ accept: "text/plain" }) });
    const text = await res.text();
    if (!res.ok) throw refusal(res.status, parseJson(text), text);
    return text;
  }

  async json(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(this.base + path, {
      method,
      headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed = parseJson(text);
    if (!res.ok) throw refusal(res.status, parsed, text);
    return parsed;
  }
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The service's `{error: {code, message}}`, or the status and the start of the body. */
function refusal(status: number, parsed: any, text: string): CliHttpError {
  return new CliHttpError(
    status,
    parsed?.error?.code ?? `HTTP_${status}`,
    parsed?.error?.message ?? text.slice(0, 200),
  );
}
