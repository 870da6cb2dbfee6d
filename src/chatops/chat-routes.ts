import express, { Router, type Request, type Response } from "express";
import type IORedis from "ioredis";
import { z } from "zod";
import { UnauthenticatedError } from "../errors";
import type { Ledger } from "../operations/ledger";
import type { OperationService } from "../operations/operation-service";
import type { SiteStateReader } from "../operations/site-state";
import type { Logger } from "../infra/observability/logger";
import { parseOr400 } from "../api/validation";
import type { ChatConfig } from "./chat-config";
import { ChatDispatcher, type ChatAnswer } from "./chat-dispatcher";
import { OutcomeWatcher } from "./outcome-watcher";
import { ReplayGuard } from "./replay-guard";
import { ReplyPoster } from "./reply-poster";
import { verifySlackSignature, type SignatureVerdict } from "./slack-signature";
import { verifyWebhookSignature } from "./webhook-signature";
import { blockActionsSchema, SlackActionHandler } from "./slack-actions";
import { SlackReplies, type ReplyRoute } from "./slack-replies";
import { SlackWebApi } from "./slack-web-api";

export interface ChatRouteDeps {
  config?: ChatConfig;
  operations: OperationService;
  /** `status <site>`: the same overview as `GET /v1/sites/:site`. */
  siteState: SiteStateReader;
  ledger: Ledger;
  redis: IORedis;
  logger: Logger;
  /** Slack shows "operation timed out" after 3 s: answer before this, post the rest later. */
  ackWithinMs?: number;
  watcher?: OutcomeWatcher;
  now?: () => number;
}

const hookBodySchema = z.strictObject({
  text: z.string().max(500),
  user: z.string().regex(/^[A-Za-z0-9_.@/-]{1,100}$/, "a user name"),
  reply_url: z.string().max(2000).optional(),
});

/** Every refusal looks the same to the caller: which check failed is for the log only. */
const opaque = () => new UnauthenticatedError("request not accepted");

/**
 * `POST /v1/hooks/slack` (Slack slash command) and `POST /v1/hooks/chat` (generic signed webhook).
 * Mounted before the bearer-token middleware and before any body parser: the signature is over the
 * raw bytes, so they are read here exactly as sent.
 */
export function chatRoutes(deps: ChatRouteDeps): Router {
  const r = Router();
  const cfg = deps.config;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const guard = new ReplayGuard(deps.redis);
  const dispatcher = new ChatDispatcher({
    operations: deps.operations,
    siteState: deps.siteState,
    users: cfg?.users ?? {},
    logger: deps.logger,
  });
  const poster = new ReplyPoster(
    cfg ?? { replyHosts: [], allowLoopbackReplies: false, sandboxReplyPorts: [] },
    deps.logger,
  );
  const watcher = deps.watcher ?? new OutcomeWatcher(deps.ledger, deps.logger);
  const bot =
    cfg?.slackBotToken && cfg.slackApiUrl
      ? new SlackWebApi(cfg.slackApiUrl, cfg.slackBotToken, deps.logger)
      : undefined;
  const replies = new SlackReplies(poster, bot);
  const actions = new SlackActionHandler({
    operations: deps.operations,
    dispatcher,
    replies,
    watcher,
    logger: deps.logger,
  });
  const ackWithinMs = deps.ackWithinMs ?? 2_500;
  const raw = express.raw({ type: () => true, limit: 16 * 1024 });

  /** Signature, then nonce: unsigned junk never reaches Redis. */
  async function verified(
    req: Request,
    channel: "slack" | "hook",
    secret: string | undefined,
    verify: typeof verifySlackSignature,
    h: { ts: string; sig: string },
  ) {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!secret) {
      deps.logger.warn("chat request refused", { channel, reason: "no signing secret configured" });
      throw opaque();
    }
    const verdict: SignatureVerdict = verify(
      secret,
      { timestamp: req.header(h.ts), signature: req.header(h.sig) },
      body,
      now(),
    );
    if (!verdict.ok) {
      deps.logger.info("chat request refused", { channel, reason: verdict.reason });
      throw opaque();
    }
    if (!(await guard.firstUse(channel, req.header(h.sig)!))) {
      deps.logger.warn("chat request refused", { channel, reason: "replayed signature" });
      throw opaque();
    }
    return body;
  }

  /** Answers within the ack budget; a slower answer goes to the reply route when it is ready. */
  async function answer(identity: string, text: string, route: ReplyRoute | undefined): Promise<ChatAnswer> {
    const work = dispatcher.handle(identity, text);
    const late = Symbol("late");
    let timer: NodeJS.Timeout | undefined;
    const first = await Promise.race([
      work,
      new Promise<typeof late>((res) => (timer = setTimeout(() => res(late), ackWithinMs))),
    ]);
    clearTimeout(timer);
    const follow = (id: string) =>
      route && watcher.follow(id, route.post, { maxFollowMs: route.maxFollowMs });
    if (first === late) {
      void work.then((a) => {
        void route?.post({ response_type: "ephemeral", text: a.text });
        if (a.operationId) follow(a.operationId);
      });
      return { text: "working on it; the answer will follow here" };
    }
    if (first.operationId) follow(first.operationId);
    return first;
  }

  const hookRoute = (replyUrl: string | undefined): ReplyRoute | undefined =>
    replyUrl ? { post: (m) => poster.post(replyUrl, m, { channel: "hook" }) } : undefined;

  /**
   * A Slack delivery's verified bytes, or undefined for a retry of one already handled
   * (X-Slack-Retry-Num): the caller acknowledges it and runs nothing again.
   */
  async function firstSlackDelivery(req: Request): Promise<Buffer | undefined> {
    const body = await verified(req, "slack", cfg?.slackSigningSecret, verifySlackSignature, {
      ts: "x-slack-request-timestamp",
      sig: "x-slack-signature",
    });
    if (await guard.firstDelivery(body)) return body;
    deps.logger.info("chat retry ignored", {
      channel: "slack",
      retry: req.header("x-slack-retry-num") ?? null,
    });
    return undefined;
  }

  r.post("/v1/hooks/slack", raw, async (req: Request, res: Response) => {
    const body = await firstSlackDelivery(req);
    if (!body) return void res.status(200).json({ response_type: "ephemeral", text: "already received" });
    const form = new URLSearchParams(body.toString("utf8"));
    const identity = `slack:${form.get("team_id") ?? "?"}:${form.get("user_id") ?? "?"}`;
    const text = form.get("text") ?? "";
    deps.logger.info("chat command", { channel: "slack", identity, verb: text.trim().split(/\s+/)[0] ?? "" });
    const route = replies.route(form.get("response_url") ?? undefined, form.get("channel_id") ?? undefined);
    const a = await answer(identity, text, route);
    res.status(200).json({
      response_type: "ephemeral",
      text: a.text,
      ...(a.operationId ? { operation_id: a.operationId } : {}),
    });
  });

  // Slack's interactivity Request URL: button clicks (`block_actions`), signed like slash commands.
  r.post("/v1/hooks/slack/actions", raw, async (req: Request, res: Response) => {
    const body = await firstSlackDelivery(req);
    if (!body) return void res.status(200).end();
    let json: unknown;
    try {
      json = JSON.parse(new URLSearchParams(body.toString("utf8")).get("payload") ?? "");
    } catch {
      json = undefined;
    }
    if ((json as { type?: unknown } | undefined)?.type !== "block_actions") {
      // Other interactivity (shortcuts, view submissions) is not used: acknowledged, nothing runs.
      parseOr400(z.object({ type: z.string().max(64) }), json, "payload");
      deps.logger.info("chat action ignored", { channel: "slack", type: (json as { type: string }).type });
      return void res.status(200).end();
    }
    const payload = parseOr400(blockActionsSchema, json, "payload");
    // Slack wants the ack within 3 s; the decision's answers go to response_url / the bot.
    res.status(200).end();
    void actions.handle(payload).catch((err) => deps.logger.error("chat action failed", { err }));
  });

  r.post("/v1/hooks/chat", raw, async (req: Request, res: Response) => {
    const body = await verified(req, "hook", cfg?.webhookSecret, verifyWebhookSignature, {
      ts: "x-stackyard-timestamp",
      sig: "x-stackyard-signature",
    });
    let json: unknown;
    try {
      json = JSON.parse(body.toString("utf8"));
    } catch {
      json = undefined;
    }
    const msg = parseOr400(hookBodySchema, json, "body");
    const identity = `hook:${msg.user}`;
    deps.logger.info("chat command", {
      channel: "hook",
      identity,
      verb: msg.text.trim().split(/\s+/)[0] ?? "",
    });
    const a = await answer(identity, msg.text, hookRoute(msg.reply_url));
    res.status(200).json({ text: a.text, ...(a.operationId ? { operationId: a.operationId } : {}) });
  });

  return r;
}
