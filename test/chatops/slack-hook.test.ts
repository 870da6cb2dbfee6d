import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { dbRoles, siteCloud } from "../workers/support/baseline";
import { sendSlack, slackBody, startReplyCatcher } from "./support/chat-client";
import {
  operatorService,
  SLACK_APPROVER,
  SLACK_OPERATOR,
  SLACK_TEAM,
  SLACK_VIEWER,
  type OperatorService,
} from "./support/operator-service";

const poolDroplets = (cloud: SandboxCloud) =>
  cloud.list(TYPES.droplet, "theatl").filter((r) => /theatl-sidekiq-main-\d+$/.test(r.urn)).length;

describe("Slack slash command (real HMAC signatures against the running service)", function () {
  this.timeout(600_000);
  let s: OperatorService;
  const historyLength = async () =>
    (await s.api().get("/v1/sites/theatl/operations?limit=200")).body.operations.length;

  before(async () => (s = await operatorService()));

  it("answers a correctly signed `status theatl` within 3 s with the site's revision", async () => {
    const r = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_VIEWER, text: "status theatl" }),
      { secret: s.slackSecret },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.response_type, "ephemeral");
    assert.match(r.body.text, /^theatl: config revision \d+, deployed revision/);
    assert.ok(r.ms < 3000, `acked in ${r.ms} ms`);
    console.log(`      (Slack ack for status: ${r.ms.toFixed(0)} ms)`);
  });

  it("refuses a request signed with another secret with an opaque 401", async () => {
    const r = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "status theatl" }),
      { secret: "not-the-signing-secret" },
    );
    assert.equal(r.status, 401);
    assert.deepEqual(r.body, {
      error: { code: "UNAUTHENTICATED", message: "request not accepted", details: {} },
    });
  });

  it("refuses a timestamp more than five minutes old, even with a valid signature over it", async () => {
    const r = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "status theatl" }),
      {
        secret: s.slackSecret,
        ts: Math.floor(Date.now() / 1000) - 301,
      },
    );
    assert.equal(r.status, 401);
    assert.equal(r.body.error.message, "request not accepted");
  });

  it("refuses a replayed request (same signature and body) and runs nothing for it", async () => {
    const body = slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "status theatl" });
    const first = await sendSlack(s.base, body, { secret: s.slackSecret });
    assert.equal(first.status, 200);
    const replay = await sendSlack(s.base, body, {
      secret: s.slackSecret,
      ts: Number(first.ts),
      signature: first.signature,
    });
    assert.equal(replay.status, 401);
  });

  it("acknowledges Slack's retry of a command (new signature, same body, X-Slack-Retry-Num) without queueing it twice", async () => {
    const before = await historyLength();
    const body = slackBody({ team: SLACK_TEAM, user: SLACK_VIEWER, text: "scale-sidekiq theatl 4" });
    const first = await sendSlack(s.base, body, { secret: s.slackSecret });
    assert.equal(first.status, 200);
    const retry = await sendSlack(s.base, body, {
      secret: s.slackSecret,
      ts: Number(first.ts) + 1,
      headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.body.text, "already received");
    assert.equal(await historyLength(), before);
  });

  it("answers an unknown command with the usage and queues nothing", async () => {
    const before = await historyLength();
    const r = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "frobnicate theatl" }),
      { secret: s.slackSecret },
    );
    assert.equal(r.status, 200);
    assert.match(r.body.text, /unknown command "frobnicate"/);
    assert.match(r.body.text, /scale-sidekiq <site> <count> \[pool\]/);
    assert.equal(await historyLength(), before);
  });

  it("refuses users the map does not know, and mapped users without the scope or the site, queueing nothing", async () => {
    const before = await historyLength();
    const stranger = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: "U0STRANGER", text: "scale-sidekiq theatl 4" }),
      { secret: s.slackSecret },
    );
    assert.equal(stranger.status, 200);
    assert.match(stranger.body.text, /not mapped to a stackyard principal/);
    const otherTeam = await sendSlack(
      s.base,
      slackBody({ team: "T0OTHER", user: SLACK_OPERATOR, text: "scale-sidekiq theatl 4" }),
      { secret: s.slackSecret },
    );
    assert.match(otherTeam.body.text, /not mapped/);
    const viewer = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_VIEWER, text: "scale-sidekiq theatl 4" }),
      { secret: s.slackSecret },
    );
    assert.match(viewer.body.text, /slack-viewer may not run scale-sidekiq on theatl/);
    const otherSite = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "scale-sidekiq vulpine 2" }),
      { secret: s.slackSecret },
    );
    assert.match(otherSite.body.text, /slack-operator may not run scale-sidekiq on vulpine/);
    assert.equal(await historyLength(), before);
    assert.equal((await s.api().get("/v1/sites/vulpine/operations")).body.operations.length, 0);
  });

  it("names a guard refusal in the answer (a pool theATL does not have) and queues nothing", async () => {
    const before = await historyLength();
    const r = await sendSlack(
      s.base,
      slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "scale-sidekiq theatl 3 nosuchpool" }),
      { secret: s.slackSecret },
    );
    assert.match(r.body.text, /^refused \(GUARD_REFUSED\): theatl has no sidekiq pool "nosuchpool"/);
    assert.equal(await historyLength(), before);
  });

  it("posts replies only to the configured loopback port: a response_url on another local port (Redis') gets nothing", async () => {
    const redisPort = Number(new URL(s.d.redis.url).port);
    const allowed = await startReplyCatcher(s.replyPort);
    const elsewhere = await startReplyCatcher();
    try {
      const send = (url: string) =>
        sendSlack(
          s.base,
          slackBody({
            team: SLACK_TEAM,
            user: SLACK_OPERATOR,
            text: "scale-sidekiq theatl 2",
            responseUrl: url,
          }),
          { secret: s.slackSecret },
        );
      const toRedis = await send(`http://127.0.0.1:${redisPort}/`);
      const toOther = await send(`${elsewhere.url}/slack/reply/x`);
      const toAllowed = await send(`${allowed.url}/slack/reply/ok`);
      for (const r of [toRedis, toOther, toAllowed]) assert.equal(r.status, 200, JSON.stringify(r.body));
      const ids = [toRedis, toOther, toAllowed].map(
        (r) => /^queued (op-[0-9a-f-]{36}): /.exec(r.body.text)?.[1],
      );
      assert.ok(ids.every(Boolean), JSON.stringify(ids));
      await allowed.waitFor((x) => x.body.text.startsWith(`${ids[2]} `));
      for (const id of ids) await s.api().waitFor(id!);
      await new Promise((r) => setTimeout(r, 500)); // any reply to the other two would have been posted by now
      assert.deepEqual(elsewhere.messages, [], "posted to a port nobody configured");
      const lines = fs
        .readFileSync(s.svc.logFile, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const refused = lines.filter((j) => j.msg === "chat reply not posted").map((j) => String(j.reason));
      assert.ok(
        refused.some((r) => r === `loopback port ${redisPort} is not in STACKYARD_SANDBOX_REPLY_PORTS`),
        JSON.stringify(refused),
      );
      assert.ok(
        refused.some(
          (r) => r === `loopback port ${new URL(elsewhere.url).port} is not in STACKYARD_SANDBOX_REPLY_PORTS`,
        ),
        JSON.stringify(refused),
      );
    } finally {
      await allowed.close();
      await elsewhere.close();
    }
  });

  it("runs `scale-sidekiq theatl 3`: acks at once, then posts the preview summary and the result to response_url", async () => {
    const catcher = await startReplyCatcher(s.replyPort);
    try {
      const r = await sendSlack(
        s.base,
        slackBody({
          team: SLACK_TEAM,
          user: SLACK_OPERATOR,
          text: "scale-sidekiq theatl 3",
          responseUrl: `${catcher.url}/slack/reply/1`,
        }),
        {
          secret: s.slackSecret,
        },
      );
      assert.equal(r.status, 200);
      assert.ok(r.ms < 3000, `acked in ${r.ms} ms`);
      console.log(`      (Slack ack for scale-sidekiq: ${r.ms.toFixed(0)} ms)`);
      const m = /^queued (op-[0-9a-f-]{36}): /.exec(r.body.text);
      assert.ok(m, r.body.text);
      const id = m[1]!;
      const preview = await catcher.waitFor((x) => /^preview of /.test(x.body.text));
      assert.equal(preview.path, "/slack/reply/1");
      assert.match(preview.body.text, new RegExp(`^preview of ${id} on theatl: .*checks passed$`));
      const result = await catcher.waitFor((x) => x.body.text.startsWith(`${id} `));
      assert.match(
        result.body.text,
        new RegExp(
          `^${id} succeeded: scale theatl sidekiq pool "main" from \\d to 3 process\\(es\\), config revision \\d+$`,
        ),
      );
      assert.equal(result.body.response_type, "in_channel");
      const rec = await s.api().get(`/v1/operations/${id}`);
      assert.equal(rec.body.requester.tokenId, "slack-operator");
      assert.equal(poolDroplets(siteCloud(s.d, "theatl")), 3);
    } finally {
      await catcher.close();
    }
  });

  it("asks the channel for approval of a failover; the requester may not approve, a second mapped user may, and it completes", async () => {
    const say = (user: string, text: string) =>
      sendSlack(s.base, slackBody({ team: SLACK_TEAM, user, text }), { secret: s.slackSecret });
    const catcher = await startReplyCatcher(s.replyPort);
    let id: string;
    try {
      const queued = await sendSlack(
        s.base,
        slackBody({
          team: SLACK_TEAM,
          user: SLACK_OPERATOR,
          text: "failover theatl",
          responseUrl: `${catcher.url}/slack/reply/2`,
        }),
        {
          secret: s.slackSecret,
        },
      );
      const m = /^queued (op-[0-9a-f-]{36}): /.exec(queued.body.text);
      assert.ok(m, queued.body.text);
      id = m[1]!;
      const ask = await catcher.waitFor((x) => x.body.text.startsWith(`approval needed for ${id}`));
      assert.equal(ask.body.response_type, "in_channel");
      assert.match(
        ask.body.text,
        new RegExp(`requested by slack-operator\\. Another approver: \`approve ${id}\` before \\d{4}-`),
      );
    } finally {
      await catcher.close();
    }
    const waiting = await s.api().get(`/v1/operations/${id}`);
    assert.equal(waiting.body.status, "awaiting-approval");

    const self = await say(SLACK_OPERATOR, `approve ${id}`);
    assert.match(
      self.body.text,
      /^refused \(SELF_APPROVAL_FORBIDDEN\): operation op-[0-9a-f-]+ was requested by slack-operator/,
    );
    const viewer = await say(SLACK_VIEWER, `approve ${id}`);
    assert.match(viewer.body.text, /^slack-viewer may not approve failover on theatl$/);
    const approved = await say(SLACK_APPROVER, `approve ${id}`);
    assert.match(
      approved.body.text,
      new RegExp(`^approved ${id} \\(failover on theatl\\): (queued|running)$`),
    );

    const final = await s.api().waitFor(id, 300_000);
    assert.equal(final.status, "succeeded", final.reason);
    assert.equal(final.approval.approvedBy, "slack-approver");
    const roles = dbRoles(siteCloud(s.d, "theatl"), "theatl");
    assert.equal(Object.values(roles).filter((r) => r === "primary").length, 1);
  });
});
