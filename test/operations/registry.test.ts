import * as assert from "node:assert/strict";
import { openApiDocument } from "../../src/api/openapi";
import { hashToken, tokenListSchema } from "../../src/auth/tokens";
import { CHAT_USAGE, parseChatCommand } from "../../src/chatops/chat-command";
import {
  DEFINITIONS,
  OPERATION_KINDS,
  OPERATIONS,
  operationRequestSchema,
} from "../../src/operations/registry";
import type { ChatArg } from "../../src/operations/types";

/** A word each chat argument accepts: the parser passes it on, the operation's schema judges it. */
const sampleWord = (arg: ChatArg): string => (arg.type === "integer" ? "3" : "main");
const chatText = (kind: string, args: readonly ChatArg[]): string =>
  [kind, "theatl", ...args.map(sampleWord)].join(" ");
const usageLineOf = (kind: string): string =>
  CHAT_USAGE.split("\n").find((line) => line.startsWith(`${kind} <site>`))!;

describe("the operation registry as the one list of operations", () => {
  it("lists each kind once, in the order of its definitions", () => {
    assert.deepEqual(
      [...OPERATION_KINDS],
      DEFINITIONS.map((d) => d.kind),
    );
    assert.equal(new Set(OPERATION_KINDS).size, DEFINITIONS.length);
    for (const d of DEFINITIONS) assert.equal(OPERATIONS[d.kind], d);
  });

  it("offers every kind in the OpenAPI document: the OperationKind enum and a request branch", () => {
    const schemas = openApiDocument.components.schemas as Record<string, any>;
    assert.deepEqual(schemas.OperationKind.enum, [...OPERATION_KINDS]);
    const branches = (schemas.OperationRequest.oneOf as any[]).map((b) => b.properties.operation.const);
    assert.deepEqual(branches, [...OPERATION_KINDS]);
  });

  it("lets a token be scoped to every kind, and to no unknown one", () => {
    const token = (operations: string[]) => ({
      id: "t",
      sha256: hashToken("secret"),
      sites: ["*"],
      operations,
      scopes: ["operations:write"],
    });
    assert.ok(tokenListSchema.safeParse([token([...OPERATION_KINDS])]).success);
    assert.ok(!tokenListSchema.safeParse([token(["reboot"])]).success);
  });

  it("refuses a request for a kind the registry does not list", () => {
    assert.ok(!operationRequestSchema.safeParse({ operation: "reboot", params: {} }).success);
  });

  it("requires params except where the definition declares defaults, and applies those", () => {
    for (const d of DEFINITIONS) {
      const parsed = operationRequestSchema.safeParse({ operation: d.kind });
      if (d.defaultParams === undefined) assert.ok(!parsed.success, `${d.kind} without params`);
      else assert.deepEqual(parsed.data, { operation: d.kind, params: d.defaultParams });
    }
  });

  for (const d of DEFINITIONS) {
    describe(d.kind, () => {
      const required = d.chat.args.filter((a) => !a.optional);

      it("declares its optional chat words after the required ones", () => {
        assert.deepEqual(
          d.chat.args.slice(0, required.length).map((a) => a.param),
          required.map((a) => a.param),
        );
      });

      it("has a chat usage line naming its words, optional ones in brackets", () => {
        const words = d.chat.args.map((a) => (a.optional ? `[${a.param}]` : `<${a.param}>`));
        assert.ok(CHAT_USAGE.split("\n").includes([d.kind, "<site>", ...words].join(" ")), CHAT_USAGE);
      });

      it("parses its chat words into the params they name, which the request schema accepts", () => {
        for (const args of [d.chat.args, required]) {
          const cmd = parseChatCommand(chatText(d.kind, args));
          assert.equal(cmd.kind, "operation");
          if (cmd.kind !== "operation") return;
          assert.equal(cmd.operation, d.kind);
          assert.equal(cmd.site, "theatl");
          assert.deepEqual(
            Object.keys(cmd.params),
            args.map((a) => a.param),
          );
          for (const a of args) {
            assert.equal(cmd.params[a.param], a.type === "integer" ? 3 : "main");
          }
          const parsed = operationRequestSchema.safeParse({ operation: cmd.operation, params: cmd.params });
          assert.ok(parsed.success, `${chatText(d.kind, args)}: ${parsed.error?.message}`);
        }
      });

      if (required.length > 0) {
        it("answers with its usage line when a required word is missing", () => {
          const short = chatText(d.kind, required.slice(0, -1));
          assert.throws(() => parseChatCommand(short), { message: `usage: ${usageLineOf(d.kind)}` });
        });
      }
    });
  }
});
