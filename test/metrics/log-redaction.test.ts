import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { sendHook, sendSlack, slackBody, startReplyCatcher } from "../chatops/support/chat-client";
import {
  operatorService,
  SLACK_OPERATOR,
  SLACK_TEAM,
  type OperatorService,
} from "../chatops/support/operator-service";

describe("service logs never hold a token, a signing secret or the passphrase", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("after HTTP calls with tokens, Slack and webhook commands, a dashboard login and an engine run, no log line contains any secret", async () => {
    const api = s.api();
    await s.finishedOperation();
    // Bearer tokens: good, unknown, malformed, in places a careless logger would print.
    await api.get("/v1/sites");
    await api.get(`/v1/sites/theatl/operations?limit=5`);
    await fetch(`${s.base}/v1/sites`, { headers: { authorization: `Bearer ${s.slackSecret}` } });
    await fetch(`${s.base}/v1/sites`, { headers: { authorization: `Token ${s.tokens.admin}` } });
    await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${s.tokens.metrics}` } });
    // A request that fails validation with a token in the body.
    await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 2, token: s.tokens.admin },
    });
    // Chat: valid and invalid signatures, a command that queues and is followed to a reply URL.
    const catcher = await startReplyCatcher(s.replyPort);
    try {
      const r = await sendSlack(
        s.base,
        slackBody({
          team: SLACK_TEAM,
          user: SLACK_OPERATOR,
          text: "scale-sidekiq theatl 2",
          responseUrl: `${catcher.url}/r`,
        }),
        { secret: s.slackSecret },
      );
      assert.equal(r.status, 200);
      await sendSlack(
        s.base,
        slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: `status ${s.passphrase}` }),
        { secret: s.slackSecret },
      );
      await sendSlack(s.base, slackBody({ team: SLACK_TEAM, user: SLACK_OPERATOR, text: "status theatl" }), {
        secret: s.webhookSecret,
      });
      await sendHook(s.base, { text: "status theatl", user: "mattermost/alice" }, s.webhookSecret);
      await catcher.waitFor((m) => / (succeeded|failed)/.test(m.body.text));
    } finally {
      await catcher.close();
    }
    // Dashboard login posts the token in a form body.
    await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens.admin)}`,
      redirect: "manual",
    });
    await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens.metrics)}`,
      redirect: "manual",
    });
    for (const o of (await api.get("/v1/sites/theatl/operations?limit=200")).body.operations)
      await api.waitFor(o.id);
    await new Promise((r) => setTimeout(r, 300)); // the last lines reach the file

    const lines = fs.readFileSync(s.svc.logFile, "utf8").split("\n").filter(Boolean);
    assert.ok(lines.length > 10, `only ${lines.length} log lines`);
    const secrets = {
      ...s.tokens,
      slackSecret: s.slackSecret,
      webhookSecret: s.webhookSecret,
      slackBotToken: s.slackBotToken,
      passphrase: s.passphrase,
    };
    for (const [name, value] of Object.entries(secrets)) {
      const hits = lines.filter((l) => l.includes(value));
      assert.deepEqual(hits, [], `${name} appears in the log`);
    }
    // One JSON event per line; operation lines name the operation and the stack.
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const opLines = parsed.filter(
      (j) => j.msg === "operation succeeded" || j.msg === "chat operation queued",
    );
    assert.ok(opLines.length >= 2);
    assert.ok(
      opLines.every((j) => typeof j.operationId === "string" && j.stack === "theatl"),
      JSON.stringify(opLines[0]),
    );
  });

  it("names who acted: a dashboard login logs the token's id, never the token", async () => {
    const r = await fetch(`${s.base}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: s.base },
      body: `token=${encodeURIComponent(s.tokens.reader)}`,
      redirect: "manual",
    });
    assert.equal(r.status, 303);
    await new Promise((res) => setTimeout(res, 300));
    const lines = fs.readFileSync(s.svc.logFile, "utf8").split("\n").filter(Boolean);
    const logins = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((j) => j.msg === "dashboard login");
    assert.ok(
      logins.some((j) => j.tokenId === "reader"),
      JSON.stringify(logins.at(-1)),
    );
    assert.ok(!lines.some((l) => l.includes(s.tokens.reader)), "the token itself is in the log");
  });
});
