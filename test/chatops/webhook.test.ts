import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import IORedis from "ioredis";
import { MAX_SKEW_SECONDS } from "../../src/chatops/signed-request";
import { webhookSignature } from "../../src/chatops/webhook-signature";
import { sendHook, sendSlack, slackBody } from "./support/chat-client";
import { operatorService, type OperatorService } from "./support/operator-service";

describe("generic signed chat webhook (POST /v1/hooks/chat)", function () {
  this.timeout(600_000);
  let s: OperatorService;
  before(async () => (s = await operatorService()));

  it("answers a correctly signed command from a mapped webhook user through the same handler", async () => {
    const r = await sendHook(s.base, { text: "status theatl", user: "mattermost/alice" }, s.webhookSecret);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.text, /^theatl: config revision/);
  });

  it("refuses a body signed with the Slack secret, a wrong secret, and a replay", async () => {
    assert.equal(
      (await sendHook(s.base, { text: "status theatl", user: "mattermost/alice" }, s.slackSecret)).status,
      401,
    );
    // A timestamp of its own: the first test may have sent this very payload in the same second.
    const ts = Math.floor(Date.now() / 1000) - 7;
    const payload = { text: "status theatl", user: "mattermost/alice" };
    assert.equal((await sendHook(s.base, payload, s.webhookSecret, ts)).status, 200);
    assert.equal((await sendHook(s.base, payload, s.webhookSecret, ts)).status, 401, "same signature again");
  });

  it("keeps a signature's nonce for as long as the signature verifies: a timestamp 290 s ahead stays refused for 590 s and more", async () => {
    const ts = Math.floor(Date.now() / 1000) + 290;
    const payload = { text: "status theatl", user: "mattermost/alice" };
    assert.equal((await sendHook(s.base, payload, s.webhookSecret, ts)).status, 200);
    assert.equal((await sendHook(s.base, payload, s.webhookSecret, ts)).status, 401, "same signature again");
    // That signature verifies until ts + 300 (590 s from now): its nonce must outlive that.
    const nonce = `stackyard:chat:nonce:hook:${createHash("sha256")
      .update(webhookSignature(s.webhookSecret, String(ts), JSON.stringify(payload)))
      .digest("hex")}`;
    const redis = new IORedis(s.d.redis.url, { maxRetriesPerRequest: 1 });
    try {
      const ttl = await redis.ttl(nonce);
      const validFor = ts + MAX_SKEW_SECONDS - Math.floor(Date.now() / 1000);
      assert.ok(ttl >= validFor, `nonce lives ${ttl} s, the signature verifies for ${validFor} s more`);
    } finally {
      redis.disconnect();
    }
  });

  it("does not let a webhook caller claim a Slack identity", async () => {
    const r = await sendHook(s.base, { text: "status theatl", user: "U0OPERATOR" }, s.webhookSecret);
    assert.match(r.body.text, /not mapped to a stackyard principal \(hook:U0OPERATOR\)/);
  });

  it("refuses webhook-signed bytes on the Slack route", async () => {
    const r = await sendSlack(s.base, slackBody({ user: "x", text: "status theatl" }), {
      secret: s.webhookSecret,
    });
    assert.equal(r.status, 401);
  });

  it("validates the body after the signature: unknown keys are a 400 naming the field", async () => {
    const r = await sendHook(
      s.base,
      { text: "status theatl", user: "mattermost/alice", channel: "ops" },
      s.webhookSecret,
    );
    assert.equal(r.status, 400);
    assert.equal(r.body.error.details.field, "channel");
  });
});
