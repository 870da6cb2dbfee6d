import { z } from "zod";
import { SCOPES } from "../auth/tokens";
import { OPERATION_KINDS } from "../operations/registry";

/**
 * Who a chat identity is. Keys: `slack:<team id>:<user id>` for Slack, `hook:<user>` for the generic
 * webhook (the prefix is added by the server, so a webhook caller can never claim a Slack identity).
 * The scopes model is the bearer tokens' one: a valid signature proves the request came through the
 * chat system; only this map says what its user may do.
 */
export const chatUserSchema = z.strictObject({
  principal: z.string().regex(/^[A-Za-z0-9_.:@-]{1,64}$/),
  sites: z.array(z.string().min(1)).min(1),
  operations: z.array(z.union([z.enum(OPERATION_KINDS), z.literal("*")])).default(["*"]),
  scopes: z.array(z.enum(SCOPES)).min(1),
});
export type ChatUser = z.infer<typeof chatUserSchema>;
const identityKey = z
  .string()
  .regex(
    /^(slack:[A-Z0-9]{1,32}:[A-Z0-9]{1,32}|hook:[A-Za-z0-9_.@/-]{1,100})$/,
    "slack:<TEAM>:<USER> or hook:<user>",
  );
export const chatUserMapSchema = z.record(identityKey, chatUserSchema);

/** The variables this module reads; merged into the service's env schema (src/service/config.ts). */
export const chatEnvShape = {
  /** Slack app's signing secret; without it the Slack route answers 401 to everything. */
  STACKYARD_SLACK_SIGNING_SECRET: z.string().min(8).optional(),
  /** Shared secret of the generic webhook (Mattermost, Discord relays); without it the route answers 401. */
  STACKYARD_WEBHOOK_SECRET: z.string().min(16).optional(),
  /** JSON map of chat identities to principals and scopes (see chatUserSchema). */
  STACKYARD_SLACK_USERS: z.string().default("{}"),
  /** Extra hosts replies may be posted to, comma-separated (hooks.slack.com is always allowed). */
  STACKYARD_CHAT_REPLY_HOSTS: z.string().optional(),
  /** Sandbox only: loopback ports a reply URL may name, comma-separated (none by default; never the Redis port). */
  STACKYARD_SANDBOX_REPLY_PORTS: z.string().optional(),
  /** Slack bot token (xoxb-…) for chat.postMessage / chat.update; without it, replies use response_url only. */
  STACKYARD_SLACK_BOT_TOKEN: z.string().min(8).optional(),
  /** Slack Web API base URL: https, or loopback http in the sandbox (tests point it at a fake). */
  STACKYARD_SLACK_API_URL: z.string().default("https://slack.com/api"),
};

export interface ChatConfig {
  slackSigningSecret?: string;
  webhookSecret?: string;
  users: Record<string, ChatUser>;
  /** Hosts a response_url / reply_url may name; https required except for loopback. */
  replyHosts: string[];
  /** Loopback reply URLs (http) are accepted only in the sandbox (tests pose as Slack there). */
  allowLoopbackReplies: boolean;
  /** The loopback ports those may name (STACKYARD_SANDBOX_REPLY_PORTS): any other local service stays out of reach. @defaultValue [] */
  sandboxReplyPorts: number[];
  /** Bot token for the Slack Web API (a secret: masked in logs, never echoed). @defaultValue unset: response_url only */
  slackBotToken?: string;
  /** Where the Web API is. @defaultValue "https://slack.com/api" */
  slackApiUrl?: string;
}

export const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"];

/** Throws an Error naming the variable; the service config wraps it in its ConfigError. */
export function chatConfigFromEnv(
  e: {
    STACKYARD_SLACK_SIGNING_SECRET?: string;
    STACKYARD_WEBHOOK_SECRET?: string;
    STACKYARD_SLACK_USERS: string;
    STACKYARD_CHAT_REPLY_HOSTS?: string;
    STACKYARD_SANDBOX_REPLY_PORTS?: string;
    STACKYARD_SLACK_BOT_TOKEN?: string;
    STACKYARD_SLACK_API_URL?: string;
  },
  mode: "sandbox" | "live",
): ChatConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(e.STACKYARD_SLACK_USERS);
  } catch {
    throw new Error(
      "STACKYARD_SLACK_USERS: not valid JSON (an object of identity → {principal, sites, operations, scopes})",
    );
  }
  const users = chatUserMapSchema.safeParse(raw);
  if (!users.success) {
    const i = users.error.issues[0]!;
    throw new Error(`STACKYARD_SLACK_USERS[${i.path.join(".")}]: ${i.message}`);
  }
  const extra = (e.STACKYARD_CHAT_REPLY_HOSTS ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  return {
    sandboxReplyPorts: sandboxReplyPorts(e.STACKYARD_SANDBOX_REPLY_PORTS, mode),
    slackSigningSecret: e.STACKYARD_SLACK_SIGNING_SECRET,
    webhookSecret: e.STACKYARD_WEBHOOK_SECRET,
    users: users.data,
    replyHosts: ["hooks.slack.com", ...extra],
    allowLoopbackReplies: mode === "sandbox",
    slackBotToken: e.STACKYARD_SLACK_BOT_TOKEN,
    slackApiUrl: slackApiUrl(e.STACKYARD_SLACK_API_URL ?? "https://slack.com/api", mode),
  };
}

/** The Web API base: https anywhere, plain http only to loopback in the sandbox; no credentials in it. */
function slackApiUrl(raw: string, mode: "sandbox" | "live"): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`STACKYARD_SLACK_API_URL: not a URL`);
  }
  const loopback = LOOPBACK_HOSTS.includes(url.hostname.toLowerCase());
  if (url.username || url.password) throw new Error("STACKYARD_SLACK_API_URL: no credentials in the URL");
  if (url.protocol === "https:" || (url.protocol === "http:" && loopback && mode === "sandbox"))
    return url.toString().replace(/\/+$/, "");
  throw new Error("STACKYARD_SLACK_API_URL: https, or http to loopback in the sandbox only");
}

const portSchema = z.coerce.number().int().min(1).max(65535);

/** `8081,8082` → [8081, 8082]; an entry that is not a port, or the setting outside the sandbox, stops the start. */
function sandboxReplyPorts(raw: string | undefined, mode: "sandbox" | "live"): number[] {
  if (raw === undefined || raw.trim() === "") return [];
  if (mode !== "sandbox")
    throw new Error(
      "STACKYARD_SANDBOX_REPLY_PORTS: only read in the sandbox (live replies go to allow-listed https hosts)",
    );
  return raw.split(",").map((p, i) => {
    const r = portSchema.safeParse(p.trim() === "" ? undefined : p.trim());
    if (!r.success)
      throw new Error(
        `STACKYARD_SANDBOX_REPLY_PORTS[${i}]: not a port (1-65535), got ${JSON.stringify(p.trim())}`,
      );
    return r.data;
  });
}

/** Strings the logger masks wherever they appear. */
export function chatSecrets(c: ChatConfig): string[] {
  return [c.slackSigningSecret, c.webhookSecret, c.slackBotToken].filter((s): s is string => !!s);
}
