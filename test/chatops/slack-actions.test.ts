import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { APPROVE_ACTION, REJECT_ACTION } from "../../src/chatops/slack-blocks";
import { dbRoles, siteCloud } from "../workers/support/baseline";
import {
  blockActionsBody,
  sendSlack,
  sendSlackAction,
  slackBody,
  startFakeSlackApi,
  startReplyCatcher,
} from "./support/chat-client";
import {
  operatorService,
  SLACK_APPROVER,
  SLACK_OPERATOR,
  SLACK_TEAM,
  SLACK_VIEWER,
  type OperatorService,
} from "./support/operator-service";

/** The Approve / Reject buttons of the approval request, as found in a posted message's blocks. */
function buttonsOf(blocks: any[] | undefined): Array<{ action_id: string; value: string }> {
  return (blocks ?? []).filter((b) => b.type === "actions").flatMap((b) => b.elements);
}

describe("Slack buttons: signed block_actions payloads approve and reject", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  /**
   * The tests reuse one node name: a removed replica's node stays in the spec (and in its cost), so
   * a new name would count twice against the site's cost ceiling.
   *
   * `add-read-replica theatl <name>` from the operator (this deployment makes it wait for approval,
   * like failover, without spending the site's standby); resolves once it waits for approval.
   */
  async function requestReplica(name: string, responseUrl: string, channel?: string): Promise<string> {
    const queued = await sendSlack(
      s.base,
      slackBody({
        team: SLACK_TEAM,
        user: SLACK_OPERATOR,
        text: `add-read-replica theatl ${name}`,
        responseUrl,
        channel,
      }),
      { secret: s.slackSecret },
    );
    const m = /^queued (op-[0-9a-f-]{36}): /.exec(queued.body.text);
    assert.ok(m, JSON.stringify(queued.body));
    const waiting = await s.api().waitFor(m[1]!, 300_000, ["awaiting-approval"]);
    assert.equal(waiting.status, "awaiting-approval", waiting.reason);
    return m[1]!;
  }

  const click = (
    user: string,
    actionId: string,
    id: string,
    extra: { responseUrl?: string; channel?: string; messageTs?: string } = {},
  ) =>
    sendSlackAction(s.base, blockActionsBody({ team: SLACK_TEAM, user, actionId, value: id, ...extra }), {
      secret: s.slackSecret,
    });

  it("posts Approve/Reject buttons; the requester's own click is refused in the thread, a second user's approve completes it", async () => {
    const catcher = await startReplyCatcher(s.replyPort);
    try {
      const id = await requestReplica("pg-c", `${catcher.url}/slack/command`);
      const ask = await catcher.waitFor(
        (x) => x.path === "/slack/command" && /^approval needed for/.test(x.body.text),
      );
      assert.equal(ask.body.response_type, "in_channel");
      const buttons = buttonsOf(ask.body.blocks);
      assert.deepEqual(
        buttons.map((b) => [b.action_id, b.value]),
        [
          [APPROVE_ACTION, id],
          [REJECT_ACTION, id],
        ],
      );

      // Unsigned, wrongly signed and replayed clicks are refused before anything runs.
      const body = blockActionsBody({
        team: SLACK_TEAM,
        user: SLACK_APPROVER,
        actionId: APPROVE_ACTION,
        value: id,
      });
      assert.equal((await sendSlackAction(s.base, body, { secret: "not-the-signing-secret" })).status, 401);
      const stale = await sendSlackAction(s.base, body, {
        secret: s.slackSecret,
        ts: Math.floor(Date.now() / 1000) - 301,
      });
      assert.equal(stale.status, 401);
      assert.equal((await s.api().get(`/v1/operations/${id}`)).body.status, "awaiting-approval");

      // The requester clicks Approve: acked at once, refused to them in the conversation, nothing released.
      const selfBody = blockActionsBody({
        team: SLACK_TEAM,
        user: SLACK_OPERATOR,
        actionId: APPROVE_ACTION,
        value: id,
        responseUrl: `${catcher.url}/slack/click/self`,
      });
      const self = await sendSlackAction(s.base, selfBody, { secret: s.slackSecret });
      assert.equal(self.status, 200);
      assert.equal(self.text, "");
      const refusal = await catcher.waitFor((x) => x.path === "/slack/click/self");
      assert.equal(refusal.body.response_type, "ephemeral");
      assert.equal(refusal.body.replace_original, false);
      assert.match(
        refusal.body.text,
        new RegExp(
          `^refused \\(SELF_APPROVAL_FORBIDDEN\\): operation ${id} was requested by slack-operator; another principal must approve it$`,
        ),
      );
      // The same click sent again with its signature is a replay: refused.
      const replay = await sendSlackAction(s.base, selfBody, {
        secret: s.slackSecret,
        ts: Number(self.ts),
        signature: self.signature,
      });
      assert.equal(replay.status, 401);
      const viewer = await click(SLACK_VIEWER, APPROVE_ACTION, id, {
        responseUrl: `${catcher.url}/slack/click/viewer`,
      });
      assert.equal(viewer.status, 200);
      assert.match(
        (await catcher.waitFor((x) => x.path === "/slack/click/viewer")).body.text,
        /^slack-viewer may not approve add-read-replica on theatl$/,
      );
      assert.equal((await s.api().get(`/v1/operations/${id}`)).body.status, "awaiting-approval");

      // A second mapped user approves: the request loses its buttons, the replica is added and its result follows.
      const ok = await click(SLACK_APPROVER, APPROVE_ACTION, id, {
        responseUrl: `${catcher.url}/slack/click/ok`,
      });
      assert.equal(ok.status, 200);
      const replaced = await catcher.waitFor(
        (x) => x.path === "/slack/click/ok" && x.body.replace_original === true,
      );
      assert.match(
        replaced.body.text,
        new RegExp(`^approved ${id} \\(add-read-replica on theatl\\): (queued|running), by slack-approver$`),
      );
      assert.deepEqual(buttonsOf(replaced.body.blocks), []);
      const final = await s.api().waitFor(id, 300_000);
      assert.equal(final.status, "succeeded", final.reason);
      assert.equal(final.approval.approvedBy, "slack-approver");
      const result = await catcher.waitFor(
        (x) => x.path === "/slack/click/ok" && x.body.text.startsWith(`${id} succeeded`),
      );
      assert.equal(result.body.response_type, "in_channel");
      assert.match(dbRoles(siteCloud(s.d, "theatl"), "theatl")["pg-c"] ?? "absent", /^(standby|replica)$/);
      // Back to the baseline's one standby: the slash-command failover test needs exactly one.
      const removed = await s.api().run("theatl", "remove-read-replica", { name: "pg-c" });
      assert.equal(removed.status, "succeeded", removed.reason);
    } finally {
      await catcher.close();
    }
  });

  it("with a bot token and a channel: the request is posted by chat.postMessage, a Reject updates it by chat.update and nothing runs", async () => {
    const catcher = await startReplyCatcher(s.replyPort);
    const slack = await startFakeSlackApi(s.slackApiPort);
    try {
      const id = await requestReplica("pg-c", `${catcher.url}/slack/command-bot`, "C0OPS");
      const posted = await slack.waitFor(
        (c) => c.method === "chat.postMessage" && /^approval needed for/.test(c.body.text),
      );
      assert.equal(posted.authorization, `Bearer ${s.slackBotToken}`);
      assert.equal(posted.body.channel, "C0OPS");
      assert.deepEqual(
        buttonsOf(posted.body.blocks).map((b) => b.value),
        [id, id],
      );
      assert.ok(
        !catcher.messages.some((m) => /^approval needed/.test(m.body.text)),
        "the request went by the bot, not response_url",
      );

      const ts = "1700000999.000300";
      const r = await click(SLACK_APPROVER, REJECT_ACTION, id, {
        responseUrl: `${catcher.url}/slack/click/reject`,
        channel: "C0OPS",
        messageTs: ts,
      });
      assert.equal(r.status, 200);
      const updated = await slack.waitFor((c) => c.method === "chat.update");
      assert.equal(updated.body.channel, "C0OPS");
      assert.equal(updated.body.ts, ts);
      assert.match(
        updated.body.text,
        new RegExp(`^rejected ${id} \\(add-read-replica on theatl\\): cancelled, by slack-approver$`),
      );
      assert.deepEqual(buttonsOf(updated.body.blocks), []);
      const rec = (await s.api().get(`/v1/operations/${id}`)).body;
      assert.equal(rec.status, "cancelled");
      assert.equal(rec.failure.code, "APPROVAL_REJECTED");
      assert.equal(rec.approval.rejectedBy, "slack-approver");

      // A payload that is not JSON of the expected shape is a 400 naming the field, and runs nothing.
      const bad = await sendSlackAction(
        s.base,
        new URLSearchParams({ payload: JSON.stringify({ type: "block_actions", user: {} }) }).toString(),
        {
          secret: s.slackSecret,
        },
      );
      assert.equal(bad.status, 400);
      assert.match(bad.text, /user\.id|actions/);
      const log = fs.readFileSync(s.svc.logFile, "utf8");
      assert.ok(!log.includes(s.slackBotToken), "the bot token reached the log");
    } finally {
      await slack.close();
      await catcher.close();
    }
  });
});
