import * as assert from "node:assert/strict";
import { allows, findToken, hashToken, tokenListSchema } from "../../src/auth/tokens";
import { createLogger } from "../../src/infra/observability/logger";
import { REDACTED, redact, redactOutputs } from "../../src/infra/observability/redact";
import { OPERATION_KINDS } from "../../src/operations/registry";

describe("tokens, scopes and redaction", () => {
  const tokens = tokenListSchema.parse([
    {
      id: "chatops",
      sha256: hashToken("svc_chatops_secret_1"),
      sites: ["theatl", "vulpine"],
      operations: ["scale-sidekiq"],
      scopes: ["operations:write", "operations:read"],
    },
    {
      id: "oncall",
      sha256: hashToken("svc_oncall_secret_2"),
      sites: ["*"],
      operations: ["*"],
      scopes: ["operations:write", "operations:read", "operations:cancel", "sites:read"],
    },
  ]);

  it("finds a token by its hash only; the configuration never holds the token", () => {
    assert.equal(findToken(tokens, "svc_chatops_secret_1")?.tokenId, "chatops");
    assert.equal(findToken(tokens, "svc_chatops_secret_"), undefined);
    assert.ok(!JSON.stringify(tokens).includes("svc_chatops_secret_1"));
  });

  it("grants exactly the (scope × site × operation) cells configured", () => {
    const chatops = findToken(tokens, "svc_chatops_secret_1")!;
    const oncall = findToken(tokens, "svc_oncall_secret_2")!;
    for (const site of ["theatl", "vulpine", "insync"]) {
      for (const op of OPERATION_KINDS) {
        const expected = ["theatl", "vulpine"].includes(site) && op === "scale-sidekiq";
        assert.equal(allows(chatops, "operations:write", site, op), expected, `chatops ${site} ${op}`);
        assert.equal(allows(chatops, "operations:cancel", site, op), false);
        assert.equal(allows(oncall, "operations:write", site, op), true);
      }
    }
  });

  it("refuses a token list with a clear-text token, a duplicate id or an unknown scope", () => {
    assert.equal(
      tokenListSchema.safeParse([{ id: "x", sha256: "not-a-hash", sites: ["*"], scopes: ["sites:read"] }])
        .success,
      false,
    );
    assert.equal(
      tokenListSchema.safeParse([{ id: "x", sha256: hashToken("a"), sites: ["*"], scopes: ["root"] }])
        .success,
      false,
    );
    const dup = { id: "x", sha256: hashToken("a"), sites: ["*"], scopes: ["sites:read"] };
    assert.equal(tokenListSchema.safeParse([dup, dup]).success, false);
  });

  it("redacts secret keys, bearer tokens and known secret strings at the logger", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), secrets: ["hunter2-passphrase"] });
    log.info("request", {
      headers: { authorization: "Bearer svc_abc.def-123" },
      note: "sent Bearer svc_zzz_token with passphrase hunter2-passphrase",
      password: "p4ss",
      nested: { apiToken: "t0k", ok: "visible" },
    });
    const text = lines.join("\n");
    for (const leak of ["svc_abc.def-123", "svc_zzz_token", "hunter2-passphrase", "p4ss", "t0k"])
      assert.ok(!text.includes(leak), leak);
    assert.ok(text.includes("visible"));
    assert.ok(text.includes(REDACTED));
  });

  it("keeps principal ids (tokenId, approvedBy, requester) in log lines while a token value under any key is still masked", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), secrets: ["hunter2-passphrase"] });
    log.info("approved", {
      tokenId: "oncall",
      approvedBy: "chatops",
      requester: { tokenId: "admin" },
      token: "svc_oncall_secret_2",
      headers: { authorization: "Bearer svc_oncall_secret_2" },
      accessToken: "svc_chatops_secret_1",
    });
    const entry = JSON.parse(lines[0]!) as Record<string, any>;
    assert.equal(entry.tokenId, "oncall");
    assert.equal(entry.approvedBy, "chatops");
    assert.deepEqual(entry.requester, { tokenId: "admin" });
    assert.equal(entry.token, REDACTED);
    assert.equal(entry.accessToken, REDACTED);
    for (const leak of ["svc_oncall_secret_2", "svc_chatops_secret_1"])
      assert.ok(!lines[0]!.includes(leak), leak);
    // A configured secret is masked by value even where a principal id would sit.
    assert.deepEqual(redact({ tokenId: "hunter2-passphrase" }, ["hunter2-passphrase"]), {
      tokenId: REDACTED,
    });
  });

  it("replaces secret stack outputs before they are stored or returned", () => {
    assert.deepEqual(
      redactOutputs({
        dbPassword: { value: "s3cret", secret: true },
        primary: { value: "pg-b", secret: false },
      }),
      {
        dbPassword: REDACTED,
        primary: "pg-b",
      },
    );
    assert.deepEqual(redact({ list: [{ secretKey: "x" }] }), { list: [{ secretKey: REDACTED }] });
  });
});
