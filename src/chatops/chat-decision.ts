import { allows, type Principal } from "../auth/tokens";
import { AppError } from "../errors";
import { assertMayAct } from "../operations/operation-access";
import type { OperationService } from "../operations/operation-service";
import type { Logger } from "../infra/observability/logger";

export type Decision = "approve" | "reject";

/** What the chat shows the one who decided; `ok` when the operation was released or turned down. */
export interface DecisionAnswer {
  ok: boolean;
  text: string;
  site?: string;
}

/**
 * A chat user's approve or reject, through the same calls as `POST /v1/operations/:id/approve` and
 * `/reject`: the scope check on the stored record (assertMayAct), then OperationService, which
 * refuses the requester's own approval (SELF_APPROVAL_FORBIDDEN). Used by the `approve <id>`
 * command and by Slack's buttons alike.
 */
export async function decide(
  ops: OperationService,
  logger: Logger,
  principal: Principal,
  id: string,
  decision: Decision,
): Promise<DecisionAnswer> {
  try {
    const stored = await ops.find(id);
    if (
      stored &&
      allows(principal, "operations:read", stored.site) &&
      !allows(principal, "operations:approve", stored.site, stored.kind)
    ) {
      return { ok: false, text: `${principal.tokenId} may not ${decision} ${stored.kind} on ${stored.site}` };
    }
    const rec = assertMayAct(principal, id, stored, "operations:approve");
    const after =
      decision === "approve"
        ? await ops.approve(id, principal.tokenId)
        : await ops.reject(id, principal.tokenId);
    logger.info(decision === "approve" ? "chat approval" : "chat rejection", {
      operationId: id,
      stack: rec.site,
      principal: principal.tokenId,
    });
    const verb = decision === "approve" ? "approved" : "rejected";
    return {
      ok: true,
      site: after.site,
      text: `${verb} ${id} (${after.kind} on ${after.site}): ${after.status}`,
    };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, text: `refused (${err.code}): ${err.message}` };
    throw err;
  }
}
