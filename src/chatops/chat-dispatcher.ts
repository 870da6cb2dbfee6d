import { allows, type Principal } from "../auth/tokens";
import { AppError } from "../errors";
import type { OperationRecord } from "../operations/operation-record";
import type { OperationService } from "../operations/operation-service";
import type { SiteStateReader } from "../operations/site-state";
import { siteStateText } from "../operations/site-state-text";
import { operationRequestSchema } from "../operations/registry";
import type { Logger } from "../infra/observability/logger";
import type { ChatUser } from "./chat-config";
import { CHAT_USAGE, ChatCommandError, parseChatCommand } from "./chat-command";
import { decide } from "./chat-decision";

/** What the chat user sees at once, and the operation to follow when one was queued. */
export interface ChatAnswer {
  text: string;
  operationId?: string;
}

export interface ChatDispatcherDeps {
  operations: OperationService;
  siteState: SiteStateReader;
  users: Record<string, ChatUser>;
  logger: Logger;
}

/**
 * The one handler behind every chat entry (Slack, the generic webhook): identity → principal →
 * command → the same OperationService call the HTTP API makes, with the same scopes.
 */
export class ChatDispatcher {
  constructor(private readonly deps: ChatDispatcherDeps) {}

  principalOf(identity: string): Principal | undefined {
    const u = this.deps.users[identity];
    return u && { tokenId: u.principal, sites: u.sites, operations: u.operations, scopes: u.scopes };
  }

  async handle(identity: string, text: string): Promise<ChatAnswer> {
    const principal = this.principalOf(identity);
    // The signature proved the chat system sent this; it says nothing about what the user may do.
    if (!principal)
      return {
        text: `you are not mapped to a stackyard principal (${identity}); ask an operator to add you`,
      };
    let cmd;
    try {
      cmd = parseChatCommand(text);
    } catch (err) {
      if (err instanceof ChatCommandError) return { text: err.message };
      throw err;
    }
    try {
      switch (cmd.kind) {
        case "help":
          return { text: `commands:\n${CHAT_USAGE}` };
        case "status":
          return { text: await this.status(principal, cmd.site) };
        case "approve":
          return { text: await this.approve(principal, cmd.operationId), operationId: cmd.operationId };
        case "operation":
          return await this.submit(principal, cmd.site, cmd.operation, cmd.params);
      }
    } catch (err) {
      if (err instanceof AppError) return { text: `refused (${err.code}): ${err.message}` };
      this.deps.logger.error("chat command failed", { principal: principal.tokenId, err });
      return { text: "internal error; see the service log" };
    }
  }

  private async submit(
    principal: Principal,
    site: string,
    operation: string,
    params: Record<string, unknown>,
  ): Promise<ChatAnswer> {
    if (!allows(principal, "operations:write", site, operation))
      return { text: `${principal.tokenId} may not run ${operation} on ${site}` };
    const parsed = operationRequestSchema.safeParse({ operation, params });
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      return { text: `invalid ${i.path.join(".") || "command"}: ${i.message}` };
    }
    const { record } = await this.deps.operations.submit({
      site,
      request: parsed.data,
      tokenId: principal.tokenId,
    });
    this.deps.logger.info("chat operation queued", {
      operationId: record.id,
      stack: site,
      principal: principal.tokenId,
      operation,
    });
    return { text: `queued ${record.id}: ${record.plan?.summary ?? operation}`, operationId: record.id };
  }

  /** The same release as `POST /v1/operations/:id/approve`: the approver scope, and never the requester. */
  private async approve(principal: Principal, id: string): Promise<string> {
    return (await decide(this.deps.operations, this.deps.logger, principal, id, "approve")).text;
  }

  /** The overview `GET /v1/sites/:site` answers, in the lines `stackyard status` prints. */
  private async status(principal: Principal, site: string): Promise<string> {
    if (!allows(principal, "operations:read", site)) return `${principal.tokenId} may not read ${site}`;
    return siteStateText(await this.deps.siteState.read(site));
  }
}

export function describe(op: OperationRecord): string {
  const what = op.plan?.summary ?? op.kind;
  return `${op.id} ${op.status}: ${what}${op.reason ? ` (${op.reason.slice(0, 200)})` : ""}`;
}
