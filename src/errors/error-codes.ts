/**
 * Every code the service answers with, the HTTP status the API maps it to, and what it tells a
 * client. The one table: errors carry only a code; `statusOf` is how the edge finds the status;
 * the OpenAPI document lists these codes and docs/api.md renders this table (`npm run docs:errors`,
 * and test/errors/error-table.test.ts fails while the rendered block is stale).
 *
 * Codes that end an operation or a schedule's firing rather than a request (a policy or
 * blast-radius refusal, a recovery the engine refuses, live facts it cannot read, a creator who lost
 * the scope) are here too: they reach the client as the operation's `failure.code` or the
 * schedule's `lastRun.error.code`, and the status is what the API answers should one reach the edge.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: {
    status: 400,
    description:
      "A path, query, header or body value does not match the schema; `details.issues` names every offending field, fix them and send again.",
  },
  MALFORMED_JSON: {
    status: 400,
    description: "The body is not valid JSON; send a well-formed JSON body.",
  },
  MALFORMED_BODY: {
    status: 400,
    description:
      "The body could not be read as sent (a broken gzip/deflate/br stream, an aborted upload, a length that does not match `Content-Length`); send it again whole.",
  },
  UNAUTHENTICATED: {
    status: 401,
    description:
      "No bearer token, an unknown one, or a chat request whose signature, timestamp or nonce was refused; send a valid token or a freshly signed request.",
  },
  FORBIDDEN: {
    status: 403,
    description:
      "The token lacks the scope, site or operation the route needs (`details` names them); use a token that holds it.",
  },
  SELF_APPROVAL_FORBIDDEN: {
    status: 403,
    description:
      "The operation's requester (for a scheduled operation, the schedule's creator) tried to approve it; another principal must approve.",
  },
  SCHEDULE_CREATOR_UNAUTHORIZED: {
    status: 403,
    description:
      "A schedule fired but its creator's token is gone or no longer holds the scope, so nothing was submitted (kept as the schedule's `lastRun.error`); recreate the schedule with a token that may run it.",
  },
  SITE_NOT_FOUND: {
    status: 404,
    description: "No such site, or none the token may see; check the site id against `GET /v1/sites`.",
  },
  OPERATION_NOT_FOUND: {
    status: 404,
    description: "No such operation, or none the token may see; check the operation id.",
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    description: "No route answers this path; check it against /v1/openapi.json.",
  },
  SCHEDULE_NOT_FOUND: {
    status: 404,
    description: "The site has no schedule with this id; list the site's schedules to find it.",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    description: "The path does not answer this method; use one the `Allow` header lists.",
  },
  OPERATION_FINISHED: {
    status: 409,
    description: "The operation already ended, so it cannot be cancelled; read it for how it ended.",
  },
  APPROVAL_EXPIRED: {
    status: 409,
    description:
      "The approval came after `approval.expiresAt` and the operation ended `expired`; submit the operation again.",
  },
  OPERATION_NOT_AWAITING_APPROVAL: {
    status: 409,
    description:
      "The operation is not waiting for approval (`details.status` says what it is); nothing to approve.",
  },
  SCHEDULE_LIMIT_REACHED: {
    status: 409,
    description:
      "The site already holds as many schedules as a site may (`STACKYARD_SCHEDULES_PER_SITE`); delete one first.",
  },
  STALE_CONFIG_REVISION: {
    status: 409,
    description:
      "The stack file holds an older config revision than the one deployed, so nothing was changed; pull the latest stack files and run again.",
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    description: "The body exceeds the limit in `details.limitBytes`; send a smaller body.",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: "The body is not `application/json`; send it with that Content-Type.",
  },
  UNSUPPORTED_CHARSET: {
    status: 415,
    description:
      'The body\'s charset is not utf-8 (`details.field: "content-type"`); send the body as utf-8.',
  },
  UNSUPPORTED_ENCODING: {
    status: 415,
    description:
      'The Content-Encoding is not gzip, deflate, br or identity (`details.field: "content-encoding"`); use one of those.',
  },
  OPERATION_UNSUPPORTED: {
    status: 422,
    description:
      "The site cannot do this operation at all (its topology has no such knob, `details.reason` says why); nothing to retry.",
  },
  GUARD_REFUSED: {
    status: 422,
    description:
      "A guard refused the planned change (`details` names the rule, the value and the limit); ask for a change within the limit.",
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    description:
      "The Idempotency-Key was first used for a different request (`details.operationId`); use a new key for a new request.",
  },
  BLAST_RADIUS_EXCEEDED: {
    status: 422,
    description:
      "The preview planned steps outside what the operation declares (`details.outside`), so the update was not applied; an operator must look at the stack.",
  },
  POLICY_VIOLATION: {
    status: 422,
    description:
      "The resource policy pack refused the engine's steps (`details.violations`), so the update was not applied; change the request or the site so the policy holds.",
  },
  RATE_LIMITED: {
    status: 429,
    description: "The token spent its request budget; retry after `Retry-After` seconds.",
  },
  TOO_MANY_STREAMS: {
    status: 429,
    description:
      "The token already holds as many event streams as it may; close one, or retry after `Retry-After` seconds.",
  },
  STACK_CONFIG_INVALID: {
    status: 500,
    description:
      "The site's stack file does not parse with its schema (problems name it as `stacks/Pulumi.<site>.yaml`), so the service will not plan on top of it; an operator must fix the file.",
  },
  RECOVERY_REFUSED: {
    status: 500,
    description:
      "The engine state needs a human (pending creates nobody can vouch for, a live foreign lock); an operator must recover the stack.",
  },
  INTERNAL: {
    status: 500,
    description:
      "Something failed inside the service; the answer carries no stack trace or engine output, so see the service log.",
  },
  LIVE_FACTS_NOT_IMPLEMENTED: {
    status: 501,
    description:
      "Live mode cannot yet read a fact the failover or replica gates need for this site, so it refused rather than act blind; this operation cannot run live on this site yet.",
  },
  LIVE_FACTS_NOT_CONFIGURED: {
    status: 501,
    description:
      "Live mode has no database settings for this site (`STACKYARD_LIVE_DB_FILE`), so it refused rather than act blind; an operator must add them.",
  },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description: "Redis is down or refused a write, so nothing was accepted; retry later.",
  },
  NOT_REPLICATED: {
    status: 503,
    description:
      "Fewer Redis replicas than `STACKYARD_REDIS_WAIT_REPLICAS` acknowledged in time (Redis WAIT), so the request was not accepted: nothing was queued, and a record already written (`details.operationId`, when present) ended `failed`; retry later, with the same `Idempotency-Key`.",
  },
  SCHEDULES_DISABLED: {
    status: 503,
    description:
      "This API process was started without the schedules queue; use a process that runs schedules.",
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A status some code answers with: what an OpenAPI operation may document as an error. */
export type ErrorStatus = (typeof ERROR_CODES)[ErrorCode]["status"];

/** Every code, in table order. */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];

/**
 * Codes that only ever end an operation (its `failure.code`), never an HTTP answer. Every other
 * failure code of an operation is one of ERROR_CODES (a guard, policy or blast-radius refusal, an
 * approval that expired, a recovery the engine refused).
 */
export const OPERATION_FAILURE_CODES = {
  ENGINE_FAILED:
    "The engine's update failed; `failure.message` keeps its error lines (the resource and the provider's answer), and the stack file was settled (`settlement`).",
  WORKER_LOST:
    "The worker running the operation died too often, or its job ended without ending the operation; the stack lock was released and the stack file settled.",
  APPROVAL_REJECTED:
    "A principal who may approve the operation rejected it while it awaited approval (`approval.rejectedBy`); it ended `cancelled` and nothing was applied.",
  CANCELLED: "A cancel stopped the engine at its next safe point; the stack file was settled (`settlement`).",
  HOST_NOT_CONVERGED:
    "The update was applied (its revision is recorded and committed) but the hosts did not reach the state it asks for within the verify timeout; `hosts` holds what each node was observed as.",
  GIT_REMOTE_FAILED:
    "The git remote (STACKYARD_GIT_REMOTE) could not be read before planning: nothing was changed. Run again once the remote answers.",
  GIT_CONFLICT:
    "The update was applied, but the stack file changed on the git remote while the operation ran (someone else's commit, named in the reason): nothing was pushed over it. This operation's stack file is on the branch `stackyard/conflicts/<operation id>` of the remote; merge the two by hand. Until then the remote's file is older than what is deployed, so the revision guard refuses further operations on the stack.",
} as const;

/** What an operation's `failure.code` may be. */
export type FailureCode = ErrorCode | keyof typeof OPERATION_FAILURE_CODES;

/** Every failure code, in table order: the error codes, then the operation-only ones. */
export const FAILURE_CODE_LIST = [
  ...ERROR_CODE_LIST,
  ...Object.keys(OPERATION_FAILURE_CODES),
] as FailureCode[];

/** The HTTP status the API answers a code with. */
export function statusOf(code: ErrorCode): ErrorStatus {
  return ERROR_CODES[code].status;
}

/** The codes answered with `status`, in table order. */
export function codesWithStatus(status: ErrorStatus): ErrorCode[] {
  return ERROR_CODE_LIST.filter((c) => statusOf(c) === status);
}

/** Every status some code answers with, ascending. */
export function errorStatuses(): ErrorStatus[] {
  return [...new Set(ERROR_CODE_LIST.map(statusOf))].sort((a, b) => a - b);
}
