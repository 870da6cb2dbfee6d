import type { Logger } from "../infra/observability/logger";

/** A message as the Web API takes it (`chat.postMessage` / `chat.update`). */
export interface SlackPost {
  channel: string;
  text: string;
  blocks?: unknown[];
  /** Post as a reply in this message's thread. */
  thread_ts?: string;
}

/**
 * The two Slack Web API methods the service uses, with a bot token: posting where response_url
 * cannot (it takes 5 posts within 30 minutes; an approval may wait an hour), and updating the
 * approval request once someone decided. The token is sent only in the Authorization header and
 * never logged (the logger masks it by value too). Slack answers 200 with `{ok:false,error}` for
 * refusals: logged by its error name. Redirects are not followed.
 */
export class SlackWebApi {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 5_000,
  ) {}

  /** The new message's `ts` (its id in the channel), or undefined when Slack refused. */
  async postMessage(m: SlackPost): Promise<string | undefined> {
    const r = await this.call("chat.postMessage", m);
    return typeof r?.ts === "string" ? r.ts : undefined;
  }

  async update(m: { channel: string; ts: string; text: string; blocks?: unknown[] }): Promise<boolean> {
    return (await this.call("chat.update", m)) !== undefined;
  }

  private async call(method: string, body: object): Promise<Record<string, unknown> | undefined> {
    try {
      const res = await fetch(`${this.baseUrl}/${method}`, {
        method: "POST",
        headers: {
          "content-type": "application/json; charset=utf-8",
          authorization: `Bearer ${this.token}`,
        },
        body: JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (!res.ok || json.ok !== true) {
        this.logger.warn("slack api refused", {
          method,
          status: res.status,
          error: typeof json.error === "string" ? json.error : null,
        });
        return undefined;
      }
      return json;
    } catch (err) {
      this.logger.warn("slack api failed", { method, err: (err as Error).name });
      return undefined;
    }
  }
}
