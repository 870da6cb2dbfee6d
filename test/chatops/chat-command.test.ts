import * as assert from "node:assert/strict";
import { CHAT_USAGE, ChatCommandError, parseChatCommand } from "../../src/chatops/chat-command";

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
  it("lists each operation's command with its words, then status and approve", () => {
    const lines = CHAT_USAGE.split("\n");
    for (const usage of [
      "scale-sidekiq <site> <count> [pool]",
      "add-read-replica <site> <name> [size]",
      "remove-read-replica <site> <name>",
      "failover <site> [target]",
    ])
      assert.ok(lines.includes(usage), CHAT_USAGE);
    assert.deepEqual(lines.slice(-2), ["status <site>", "approve <operation-id>"]);
  });
  it("ignores words past the declared ones and the case of the command", () => {
    assert.deepEqual(parseChatCommand("Remove-Read-Replica theatl pg-b now"), {
      kind: "operation",
      site: "theatl",
      operation: "remove-read-replica",
      params: { name: "pg-b" },
    });
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
