import { AppError } from "./app-error";

/** The resource policy pack refused the engine's own steps (layer 3 of DESIGN.md §2). */
export class PolicyViolationError extends AppError {
  constructor(violations: Array<{ rule: string; message: string; urn?: string }>) {
    super(
      "POLICY_VIOLATION",
      `resource policy refused the update: ${
        violations
          .map((v) => `[${v.rule}] ${v.message}`)
          .slice(0, 3)
          .join("; ") || "see the policy output"
      }`,
      { rule: violations[0]?.rule ?? "policy", violations },
    );
  }
}

/** An operation's requester cannot approve it: approval is a second pair of eyes. */
export class SelfApprovalError extends AppError {
  constructor(id: string, tokenId: string) {
    super(
      "SELF_APPROVAL_FORBIDDEN",
      `operation ${id} was requested by ${tokenId}; another principal must approve it`,
      { id, tokenId },
    );
  }
}

/** Approval came after the operation's approval window closed; it ended `expired`. */
export class ApprovalExpiredError extends AppError {
  constructor(id: string, expiresAt: string) {
    super(
      "APPROVAL_EXPIRED",
      `operation ${id} waited for approval until ${expiresAt} and expired; submit it again`,
      { id, expiresAt },
    );
  }
}

export class NotAwaitingApprovalError extends AppError {
  constructor(id: string, status: string) {
    super("OPERATION_NOT_AWAITING_APPROVAL", `operation ${id} is ${status}, not awaiting approval`, {
      id,
      status,
    });
  }
}
