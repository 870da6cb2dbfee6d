import { AppError } from "./app-error";

/** The site cannot do this operation at all (its topology has no such knob). */
export class OperationUnsupportedError extends AppError {
  constructor(site: string, operation: string, reason: string) {
    super("OPERATION_UNSUPPORTED", `${site} cannot ${operation}: ${reason}`, {
      site,
      operation,
      reason,
    });
  }
}

/** A guard refused the planned change; names the rule, the value and the limit. */
export class GuardRefusedError extends AppError {
  constructor(
    readonly rule: string,
    message: string,
    details: { field?: string; value?: unknown; limit?: unknown } = {},
  ) {
    super("GUARD_REFUSED", message, { rule, ...details });
  }
}

/** The stack file does not parse with the site's schema: the service will not plan on top of it. */
export class StackConfigInvalidError extends AppError {
  constructor(site: string, problems: readonly string[]) {
    super(
      "STACK_CONFIG_INVALID",
      `stacks/Pulumi.${site}.yaml is invalid: ${problems[0] ?? "unknown problem"}`,
      { site, problems },
    );
  }
}

/** The preview planned steps outside what the operation declared (blast radius). */
export class BlastRadiusError extends AppError {
  /** @param note what explains the steps, when known (drift found out of band on those resources). */
  constructor(operation: string, outside: Array<{ op: string; type: string; urn: string }>, note?: string) {
    super(
      "BLAST_RADIUS_EXCEEDED",
      `${operation} would ${outside
        .map((s) => `${s.op} ${s.type}`)
        .slice(0, 5)
        .join(", ")}, outside what it declares${note ? `; ${note}` : ""}`,
      { rule: "blast-radius", outside },
    );
  }
}

/** The stack file holds an older config revision than the one deployed: refuse before any change. */
export class StaleConfigRevisionError extends AppError {
  constructor(stack: string, fileRevision: number, deployedRevision: number) {
    super(
      "STALE_CONFIG_REVISION",
      `stack ${stack}: stacks/Pulumi.${stack}.yaml is at config revision ${fileRevision} but revision ${deployedRevision} is deployed. ` +
        `Pull the latest stack files (git pull) so your config includes every operation the service applied, then run again.`,
      { stack, fileRevision, deployedRevision },
    );
  }
}

/** The engine state needs a human: pending creates the sandbox/provider cannot vouch for, a live foreign lock. */
export class RecoveryRefusedError extends AppError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("RECOVERY_REFUSED", message, details);
  }
}
