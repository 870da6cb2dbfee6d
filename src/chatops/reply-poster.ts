import type { Logger } from "../infra/observability/logger";
import { LOOPBACK_HOSTS, type ChatConfig } from "./chat-config";

/** Why a reply URL was refused; the URL itself is never echoed back or logged (it is a bearer capability). */
export type ReplyUrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

type ReplyTargets = Pick<ChatConfig, "replyHosts" | "allowLoopbackReplies" | "sandboxReplyPorts">;

/**
 * A chat payload names where to post the outcome; that URL is attacker-controlled input (SSRF,
 * OWASP API7). Only https to an allow-listed host (hooks.slack.com plus configured chat hosts), or
 * http(s) to loopback when the sandbox is on and only on a port the operator configured (never,
 * say, the private Redis), with no credentials and the default port for https.
 */
export function checkReplyUrl(raw: string | undefined, cfg: ReplyTargets): ReplyUrlVerdict {
  if (!raw) return { ok: false, reason: "no reply URL" };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "reply URL does not parse" };
  }
  if (url.username || url.password) return { ok: false, reason: "reply URL carries credentials" };
  const host = url.hostname.toLowerCase();
  if (LOOPBACK_HOSTS.includes(host)) {
    if (!cfg.allowLoopbackReplies)
      return { ok: false, reason: "loopback reply URLs are allowed only in the sandbox" };
    if (url.protocol !== "http:" && url.protocol !== "https:")
      return { ok: false, reason: "reply URL scheme" };
    const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
    if (!cfg.sandboxReplyPorts.includes(port))
      return { ok: false, reason: `loopback port ${port} is not in STACKYARD_SANDBOX_REPLY_PORTS` };
    return { ok: true, url };
  }
  if (url.protocol !== "https:" || url.port !== "")
    return { ok: false, reason: "reply URL must be https on the default port" };
  if (!cfg.replyHosts.includes(host)) return { ok: false, reason: `reply host ${host} is not allow-listed` };
  return { ok: true, url };
}

/** A message for the chat: Slack's fields; other bots read `text`. */
export interface ChatMessage {
  text: string;
  response_type?: "ephemeral" | "in_channel";
  replace_original?: boolean;
  /** Slack Block Kit (the approval request's buttons); other bots read `text`. */
  blocks?: unknown[];
}

/** Posts to an allow-listed reply URL; never follows redirects (a redirect could leave the allow-list). */
export class ReplyPoster {
  constructor(
    private readonly cfg: ReplyTargets,
    private readonly logger: Logger,
    private readonly timeoutMs = 5_000,
  ) {}

  async post(rawUrl: string, message: ChatMessage, context: Record<string, unknown> = {}): Promise<boolean> {
    const verdict = checkReplyUrl(rawUrl, this.cfg);
    if (!verdict.ok) {
      this.logger.warn("chat reply not posted", { ...context, reason: verdict.reason });
      return false;
    }
    try {
      const res = await fetch(verdict.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(message),
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok)
        this.logger.warn("chat reply refused by the chat system", {
          ...context,
          status: res.status,
          host: verdict.url.host,
        });
      return res.ok;
    } catch (err) {
      this.logger.warn("chat reply failed", { ...context, host: verdict.url.host, err: (err as Error).name });
      return false;
    }
  }
}
