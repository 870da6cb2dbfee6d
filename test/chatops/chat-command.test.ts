import * as assert from "node:assert/strict";
import { ChatCommandError, parseChatCommand } from "../../src/chatops/chat-command";

describe("chat command text", () => {
  it("maps scale-sidekiq with a count and an optional pool", () => {
    assert.deepEqual(parseChatCommand("scale-sidekiq theatl 6"), {
      kind: "operation",
      site: "theatl",
      operation: "scale-sidekiq",
      params: { count: 6 },
    });
    assert.deepEqual(parseChatCommand("  scale-sidekiq  vulpine 3 main ").kind, "operation");
  });
  it("maps failover with and without a target", () => {
    assert.deepEqual(parseChatCommand("failover theatl"), {
      kind: "operation",
      site: "theatl",
      operation: "failover",
      params: {},
    });
    assert.deepEqual((parseChatCommand("failover theatl pg-b") as { params: unknown }).params, {
      target: "pg-b",
    });
  });
  it("maps status, approve and help", () => {
    assert.deepEqual(parseChatCommand("status theatl"), { kind: "status", site: "theatl" });
    assert.deepEqual(parseChatCommand("approve op-123"), { kind: "approve", operationId: "op-123" });
    assert.deepEqual(parseChatCommand(""), { kind: "help" });
  });
  it("refuses an unknown command, a missing argument and a non-numeric count", () => {
    assert.throws(() => parseChatCommand("reboot theatl"), ChatCommandError);
    assert.throws(() => parseChatCommand("scale-sidekiq theatl"), /usage: scale-sidekiq/);
    assert.throws(
      () => parseChatCommand("scale-sidekiq theatl six"),
      /count must be a whole number, got "six"/,
    );
  });
});
