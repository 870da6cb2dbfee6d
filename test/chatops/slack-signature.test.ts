import * as assert from "node:assert/strict";
import { slackSignature, verifySlackSignature } from "../../src/chatops/slack-signature";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const body = Buffer.from("token=x&team_id=T1&user_id=U1&command=%2Fstackyard&text=status+theatl");
const now = 1_790_000_000;

const signed = (ts: number, secret = SECRET, raw = body) => ({
  timestamp: String(ts),
  signature: slackSignature(secret, String(ts), raw),
});

describe("Slack request signatures", () => {
  it("accepts a request signed with the secret inside the window", () => {
    assert.deepEqual(verifySlackSignature(SECRET, signed(now - 10), body, now), {
      ok: true,
      timestamp: now - 10,
    });
  });
  it("refuses a signature made with another secret", () => {
    assert.deepEqual(verifySlackSignature(SECRET, signed(now, "wrong-secret"), body, now), {
      ok: false,
      reason: "bad-signature",
    });
  });
  it("refuses a tampered body", () => {
    const tampered = Buffer.from(body.toString().replace("status", "failover"));
    assert.equal(verifySlackSignature(SECRET, signed(now), tampered, now).ok, false);
  });
  it("refuses a timestamp older than five minutes and one more than five minutes ahead", () => {
    assert.deepEqual(verifySlackSignature(SECRET, signed(now - 301), body, now), {
      ok: false,
      reason: "stale",
    });
    assert.deepEqual(verifySlackSignature(SECRET, signed(now + 301), body, now), {
      ok: false,
      reason: "stale",
    });
    assert.equal(verifySlackSignature(SECRET, signed(now - 300), body, now).ok, true);
  });
  it("refuses a signature of the wrong length without throwing", () => {
    const headers = { timestamp: String(now), signature: "v0=abc" };
    assert.deepEqual(verifySlackSignature(SECRET, headers, body, now), {
      ok: false,
      reason: "bad-signature",
    });
  });
  it("refuses missing headers and a non-numeric timestamp", () => {
    assert.deepEqual(verifySlackSignature(SECRET, {}, body, now), { ok: false, reason: "missing-headers" });
    const headers = { timestamp: "soon", signature: "v0=00" };
    assert.deepEqual(verifySlackSignature(SECRET, headers, body, now), {
      ok: false,
      reason: "bad-timestamp",
    });
  });
});
