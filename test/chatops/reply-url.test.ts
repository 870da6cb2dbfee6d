import * as assert from "node:assert/strict";
import { chatConfigFromEnv, chatSecrets } from "../../src/chatops/chat-config";
import { checkReplyUrl } from "../../src/chatops/reply-poster";

const live = { replyHosts: ["hooks.slack.com"], allowLoopbackReplies: false, sandboxReplyPorts: [] };
const sandbox = { ...live, allowLoopbackReplies: true, sandboxReplyPorts: [9999] };

describe("reply URL allow-list (where chat outcomes may be posted)", () => {
  it("accepts https://hooks.slack.com in live mode", () => {
    assert.equal(checkReplyUrl("https://hooks.slack.com/commands/T1/123/abc", live).ok, true);
  });
  it("refuses any other host, plain http to Slack, another port, and credentials in the URL", () => {
    for (const u of [
      "https://evil.example/hook",
      "http://hooks.slack.com/x",
      "https://hooks.slack.com:8443/x",
      "https://a:b@hooks.slack.com/x",
      "https://hooks.slack.com.evil.example/x",
      "file:///etc/passwd",
      "not a url",
    ]) {
      assert.equal(checkReplyUrl(u, live).ok, false, u);
    }
  });
  it("accepts loopback only when the sandbox allows it", () => {
    assert.equal(checkReplyUrl("http://127.0.0.1:9999/r", live).ok, false);
    assert.equal(checkReplyUrl("http://127.0.0.1:9999/r", sandbox).ok, true);
    assert.equal(checkReplyUrl("http://[::1]:9999/r", sandbox).ok, true);
    assert.equal(checkReplyUrl("http://10.0.0.1/r", sandbox).ok, false);
  });
  it("accepts loopback in the sandbox only on a configured port: never the Redis port or another local service", () => {
    for (const u of [
      "http://127.0.0.1:6379/",
      "http://localhost:6379/x",
      "http://127.0.0.1/r",
      "https://127.0.0.1/r",
      "http://[::1]:8080/r",
      "http://127.0.0.1:99999/r",
    ]) {
      const v = checkReplyUrl(u, sandbox);
      assert.equal(v.ok, false, u);
    }
    assert.match(
      (checkReplyUrl("http://127.0.0.1:6379/", sandbox) as { reason: string }).reason,
      /port 6379 is not in STACKYARD_SANDBOX_REPLY_PORTS/,
    );
    assert.equal(checkReplyUrl("http://localhost:9999/r", sandbox).ok, true);
    assert.equal(
      checkReplyUrl("http://127.0.0.1/r", { ...sandbox, sandboxReplyPorts: [80] }).ok,
      true,
      "the default port counts as 80",
    );
  });
  it("reads STACKYARD_SANDBOX_REPLY_PORTS at start-up: none by default, a bad entry or a live-mode setting is an error naming it", () => {
    const env = { STACKYARD_SLACK_USERS: "{}" };
    assert.deepEqual(chatConfigFromEnv(env, "sandbox").sandboxReplyPorts, []);
    assert.deepEqual(
      chatConfigFromEnv({ ...env, STACKYARD_SANDBOX_REPLY_PORTS: "8081, 9000" }, "sandbox").sandboxReplyPorts,
      [8081, 9000],
    );
    for (const bad of ["80,x", "0", "65536", "8081,,8082", "1.5"]) {
      assert.throws(
        () => chatConfigFromEnv({ ...env, STACKYARD_SANDBOX_REPLY_PORTS: bad }, "sandbox"),
        /^Error: STACKYARD_SANDBOX_REPLY_PORTS\[\d\]: not a port/,
        bad,
      );
    }
    assert.throws(
      () => chatConfigFromEnv({ ...env, STACKYARD_SANDBOX_REPLY_PORTS: "8081" }, "live"),
      /STACKYARD_SANDBOX_REPLY_PORTS: only read in the sandbox/,
    );
  });
  it("reads STACKYARD_SLACK_API_URL: https by default, loopback http only in the sandbox, and masks the bot token", () => {
    const env = { STACKYARD_SLACK_USERS: "{}", STACKYARD_SLACK_BOT_TOKEN: "xoxb-1234567890" };
    const live = chatConfigFromEnv(env, "live");
    assert.equal(live.slackApiUrl, "https://slack.com/api");
    assert.ok(chatSecrets(live).includes("xoxb-1234567890"));
    const local = { ...env, STACKYARD_SLACK_API_URL: "http://127.0.0.1:9000/api/" };
    assert.equal(chatConfigFromEnv(local, "sandbox").slackApiUrl, "http://127.0.0.1:9000/api");
    assert.throws(
      () => chatConfigFromEnv(local, "live"),
      /STACKYARD_SLACK_API_URL: https, or http to loopback/,
    );
    for (const bad of ["http://slack.example/api", "not a url", "https://u:p@slack.com/api"])
      assert.throws(
        () => chatConfigFromEnv({ ...env, STACKYARD_SLACK_API_URL: bad }, "sandbox"),
        /STACKYARD_SLACK_API_URL/,
        bad,
      );
  });
});
