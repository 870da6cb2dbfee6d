/**
 * The words a chat user types after the slash command, mapped onto the service's own requests.
 * The parser only shapes text into a request; the operation's schema, guards and the caller's
 * scopes decide everything else, on the same path as an HTTP request.
 */
export type ChatCommand =
  | { kind: "operation"; site: string; operation: string; params: Record<string, unknown> }
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

export const CHAT_USAGE = [
  "scale-sidekiq <site> <count> [pool]",
  "add-read-replica <site> <name> [size]",
  "remove-read-replica <site> <name>",
  "failover <site> [target]",
  "status <site>",
  "approve <operation-id>",
].join("\n");

function need(words: string[], n: number, usage: string): void {
  if (words.length < n) throw new ChatCommandError(`usage: ${usage}`);
}

function count(word: string): number {
  if (!/^\d{1,4}$/.test(word)) throw new ChatCommandError(`count must be a whole number, got "${word}"`);
  return Number(word);
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
    case "scale-sidekiq": {
      need(rest, 2, "scale-sidekiq <site> <count> [pool]");
      const params: Record<string, unknown> = { count: count(rest[1]!) };
      if (rest[2]) params.pool = rest[2];
      return { kind: "operation", site: rest[0]!, operation: "scale-sidekiq", params };
    }
    case "add-read-replica": {
      need(rest, 2, "add-read-replica <site> <name> [size]");
      const params: Record<string, unknown> = { name: rest[1] };
      if (rest[2]) params.size = rest[2];
      return { kind: "operation", site: rest[0]!, operation: "add-read-replica", params };
    }
    case "remove-read-replica":
      need(rest, 2, "remove-read-replica <site> <name>");
      return {
        kind: "operation",
        site: rest[0]!,
        operation: "remove-read-replica",
        params: { name: rest[1] },
      };
    case "failover": {
      need(rest, 1, "failover <site> [target]");
      const params: Record<string, unknown> = {};
      if (rest[1]) params.target = rest[1];
      return { kind: "operation", site: rest[0]!, operation: "failover", params };
    }
    default:
      throw new ChatCommandError(`unknown command "${verb}"; try:\n${CHAT_USAGE}`);
  }
}
