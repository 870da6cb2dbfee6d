import type { ChatMessage, ReplyPoster } from "./reply-poster";
import type { SlackWebApi } from "./slack-web-api";

/** How long an operation is followed when a bot token can post after response_url's 30 minutes. */
export const BOT_FOLLOW_MS = 6 * 3600_000;

/** Where one conversation's later messages go, and how long they can still be posted. */
export interface ReplyRoute {
  post: (m: ChatMessage) => Promise<unknown>;
  /** undefined: the watcher's default (response_url's lifetime). */
  maxFollowMs?: number;
}

/**
 * Chooses between Slack's two ways back. Without a bot token (or without a channel id), every
 * message goes to the request's response_url, which Slack honours for 30 minutes. With both, the
 * messages for the channel (approval request, result) are posted by the bot with
 * `chat.postMessage`, which does not expire, and ephemeral ones (previews, refusals meant for one
 * person) still go to response_url, the only way to answer one user without the users:read scope.
 */
export class SlackReplies {
  constructor(
    private readonly poster: ReplyPoster,
    private readonly bot: SlackWebApi | undefined,
  ) {}

  get hasBot(): boolean {
    return this.bot !== undefined;
  }

  /** For a slash command's operation; `thread` puts the bot's posts in that message's thread. */
  route(responseUrl: string | undefined, channel: string | undefined, thread?: string): ReplyRoute {
    const viaUrl = (m: ChatMessage) =>
      responseUrl ? this.poster.post(responseUrl, m, { channel: "slack" }) : Promise.resolve(false);
    const bot = this.bot;
    if (!bot || !channel) return { post: viaUrl };
    return {
      post: (m) =>
        m.response_type === "in_channel"
          ? bot.postMessage({
              channel,
              text: m.text,
              blocks: m.blocks,
              ...(thread ? { thread_ts: thread } : {}),
            })
          : viaUrl(m),
      maxFollowMs: BOT_FOLLOW_MS,
    };
  }

  /** Replaces the approval request (its buttons) with what was decided. */
  async replaceRequest(
    responseUrl: string | undefined,
    where: { channel?: string; ts?: string },
    text: string,
    blocks: unknown[],
  ): Promise<unknown> {
    if (this.bot && where.channel && where.ts)
      return this.bot.update({ channel: where.channel, ts: where.ts, text, blocks });
    if (!responseUrl) return false;
    return this.poster.post(responseUrl, { replace_original: true, text, blocks }, { channel: "slack" });
  }

  /** One message to the one who clicked, in the same conversation, seen by them only. */
  async toClicker(responseUrl: string | undefined, text: string): Promise<unknown> {
    if (!responseUrl) return false;
    return this.poster.post(
      responseUrl,
      { response_type: "ephemeral", replace_original: false, text },
      { channel: "slack" },
    );
  }
}
