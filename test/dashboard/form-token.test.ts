import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { formToken, validFormToken } from "../../src/dashboard/form-token";

describe("dashboard form token", () => {
  const sid = () => randomBytes(32).toString("base64url");

  it("accepts a session's own token and no other session's (200 random session pairs)", () => {
    for (let n = 0; n < 200; n++) {
      const [s1, s2] = [sid(), sid()];
      assert.equal(validFormToken(s1, formToken(s1)), true);
      assert.equal(validFormToken(s1, formToken(s2)), false);
      assert.equal(formToken(s1), formToken(s1), "stable for one session");
    }
  });

  it("refuses a missing, non-string, truncated or padded token, and does not contain the session id", () => {
    const s = sid();
    const t = formToken(s);
    for (const bad of [undefined, "", 42, ["x"], t.slice(1), `${t}x`, t.toUpperCase()])
      assert.equal(validFormToken(s, bad), false, String(bad));
    assert.ok(!t.includes(s));
  });
});
