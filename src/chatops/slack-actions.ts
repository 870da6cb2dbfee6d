import { z } from "zod";
import type { OperationService } from "../operations/operation-service";
import type { Logger } from "../infra/observability/logger";
import { OPERATION_ID_PATTERN } from "../operations/ids";
import type { ChatDispatcher } from "./chat-dispatcher";
import { decide, type Decision } from "./chat-decision";
import type { OutcomeWatcher } from "./outcome-watcher";
import { APPROVE_ACTION, decidedBlocks, REJECT_ACTION } from "./slack-blocks";
import type { SlackReplies } from "./slack-replies";

const slackId = z.string().regex(/^[A-Z0-9]{1,32}$/, "a Slack id");

/**
 * The parts of Slack's `block_actions` payload the buttons need (Slack sends many more; unknown
 * fields are ignored, a missing or malformed one is a 400 naming it). `channel` and `message` are
 * there for a message in a channel; the bot token uses them to update the request.
 */
export const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  team: z.object({ id: slackId }).nullish(),
  user: z.object({ id: slackId, team_id: slackId.optional() }),
  actions: z
    .array(z.object({ action_id: z.string().max(255), value: z.string().max(2000).optional() }))
    .min(1)
    .max(25),
  response_url: z.string().max(2000).optional(),
  channel: z.object({ id: z.string().max(64) }).nullish(),
  message: z.object({ ts: z.string().max(64), thread_ts: z.string().max(64).optional() }).nullish(),
});
export type BlockActions = z.infer<typeof blockActionsSchema>;

const DECISIONS: Record<string, Decision> = { [APPROVE_ACTION]: "approve", [REJECT_ACTION]: "reject" };

export interface SlackActionDeps {
  operations: OperationService;
  dispatcher: ChatDispatcher;
  replies: SlackReplies;
  watcher: OutcomeWatcher;
  logger: Logger;
}

/**
 * A click on the approval request's Approve or Reject button, after the route verified the
 * signature: the clicking user's principal (the same user map as the slash command) decides
 * through the same calls as the API. A refusal (the requester's own click, a missing scope, an
 * expired window) is answered to the clicker alone in the conversation (response_url); a decision
 * replaces the request's buttons with who decided, and an approved operation's result follows.
 */
export class SlackActionHandler {
  constructor(private readonly deps: SlackActionDeps) {}

  async handle(p: BlockActions): Promise<void> {
    const action = p.actions.find((a) => a.action_id in DECISIONS);
    if (!action) {
      this.deps.logger.info("chat action ignored", { channel: "slack", actionId: p.actions[0]?.action_id });
      return;
    }
    const decision = DECISIONS[action.action_id]!;
    const identity = `slack:${p.team?.id ?? p.user.team_id ?? "?"}:${p.user.id}`;
    const id = action.value ?? "";
    this.deps.logger.info("chat action", { channel: "slack", identity, decision });
    const principal = this.deps.dispatcher.principalOf(identity);
    const replies = this.deps.replies;
    if (!principal)
      return void (await replies.toClicker(
        p.response_url,
        `you are not mapped to a stackyard principal (${identity}); ask an operator to add you`,
      ));
    if (!OPERATION_ID_PATTERN.test(id))
      return void (await replies.toClicker(p.response_url, `this button names no operation`));
    const answer = await decide(this.deps.operations, this.deps.logger, principal, id, decision);
    if (!answer.ok) return void (await replies.toClicker(p.response_url, answer.text));
    const text = `${answer.text}, by ${principal.tokenId}`;
    const where = { channel: p.channel?.id, ts: p.message?.ts };
    await replies.replaceRequest(p.response_url, where, text, decidedBlocks(text));
    if (decision === "approve") {
      const route = replies.route(p.response_url, where.channel, p.message?.thread_ts ?? where.ts);
      this.deps.watcher.follow(id, route.post, { maxFollowMs: route.maxFollowMs, resultOnly: true });
    }
  }
}
