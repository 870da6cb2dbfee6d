import { DEFINITIONS, type OperationKind } from "../operations/registry";
import type { ChatArg } from "../operations/types";

/**
 * The words a chat user types after the slash command, mapped onto the service's own requests.
 * The parser only shapes text into a request; the operation's schema, guards and the caller's
 * scopes decide everything else, on the same path as an HTTP request.
 */
export type ChatCommand =
  | { kind: "operation"; site: string; operation: OperationKind; params: Record<string, unknown> }
  | { kind: "status"; site: string }
  | { kind: "approve"; operationId: string }
  | { kind: "help" };

export class ChatCommandError extends Error {
  readonly code = "CHAT_COMMAND_INVALID";
  constructor(message: string) {
    super(message);
    this.name = "ChatCommandError";
  }
}

/** An operation's chat command, from the words its definition declares (`chat.args`). */
interface OperationGrammar {
  kind: OperationKind;
  args: readonly ChatArg[];
  /** `scale-sidekiq <site> <count> [pool]`: optional words in brackets. */
  usage: string;
}

const usageOf = (kind: string, args: readonly ChatArg[]): string =>
  [kind, "<site>", ...args.map((a) => (a.optional ? `[${a.param}]` : `<${a.param}>`))].join(" ");

const OPERATION_GRAMMARS: readonly OperationGrammar[] = DEFINITIONS.map((d) => ({
  kind: d.kind,
  args: d.chat.args,
  usage: usageOf(d.kind, d.chat.args),
}));

/** One line per command: the operations in registry order, then the built-in ones. */
export const CHAT_USAGE = [
  ...OPERATION_GRAMMARS.map((g) => g.usage),
  "status <site>",
  "approve <operation-id>",
].join("\n");

function need(words: string[], n: number, usage: string): void {
  if (words.length < n) throw new ChatCommandError(`usage: ${usage}`);
}

function valueOf(arg: ChatArg, word: string): unknown {
  if (arg.type !== "integer") return word;
  if (!/^\d{1,4}$/.test(word))
    throw new ChatCommandError(`${arg.param} must be a whole number, got "${word}"`);
  return Number(word);
}

/** `<site>` then the declared words in order; a left-out optional word leaves its param absent. */
function operationCommand(g: OperationGrammar, rest: string[]): ChatCommand {
  need(rest, 1 + g.args.filter((a) => !a.optional).length, g.usage);
  const [site, ...words] = rest;
  const params: Record<string, unknown> = {};
  g.args.forEach((arg, i) => {
    const word = words[i];
    if (word !== undefined) params[arg.param] = valueOf(arg, word);
  });
  return { kind: "operation", site: site!, operation: g.kind, params };
}

export function parseChatCommand(text: string): ChatCommand {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...rest] = words;
  switch (verb?.toLowerCase()) {
    case undefined:
    case "help":
      return { kind: "help" };
    case "status":
      need(rest, 1, "status <site>");
      return { kind: "status", site: rest[0]! };
    case "approve":
      need(rest, 1, "approve <operation-id>");
      return { kind: "approve", operationId: rest[0]! };
  }
  const grammar = OPERATION_GRAMMARS.find((g) => g.kind === verb.toLowerCase());
  if (!grammar) throw new ChatCommandError(`unknown command "${verb}"; try:\n${CHAT_USAGE}`);
  return operationCommand(grammar, rest);
}
