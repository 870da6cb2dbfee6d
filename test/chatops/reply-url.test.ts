import * as assert from "node:assert/strict";
import { checkReplyUrl } from "../../src/chatops/reply-poster";

const live = { replyHosts: ["hooks.slack.com"], allowLoopbackReplies: false };
const sandbox = { ...live, allowLoopbackReplies: true };

describe("reply URL allow-list (where chat outcomes may be posted)", () => {
  it("accepts https://hooks.slack.com in live mode", () => {
    assert.equal(checkReplyUrl("https://hooks.slack.com/commands/T1/123/abc", live).ok, true);
  });
  it("refuses any other host, plain http to Slack, another port, and credentials in the URL", () => {
    for (const u of ["https://evil.example/hook", "http://hooks.slack.com/x", "https://hooks.slack.com:8443/x", "https://a:b@hooks.slack.com/x", "https://hooks.slack.com.evil.example/x", "file:///etc/passwd", "not a url"]) {
      assert.equal(checkReplyUrl(u, live).ok, false, u);
    }
  });
  it("accepts loopback only when the sandbox allows it", () => {
    assert.equal(checkReplyUrl("http://127.0.0.1:9999/r", live).ok, false);
    assert.equal(checkReplyUrl("http://127.0.0.1:9999/r", sandbox).ok, true);
    assert.equal(checkReplyUrl("http://[::1]:9999/r", sandbox).ok, true);
    assert.equal(checkReplyUrl("http://10.0.0.1/r", sandbox).ok, false);
  });
});
