import { z } from "zod";
import {
  codesWithStatus,
  ERROR_CODE_LIST,
  FAILURE_CODE_LIST,
  errorStatuses,
  type ErrorCode,
  type ErrorStatus,
} from "../errors";
import { OPERATION_KINDS, operationRequestSchema } from "../operations/registry";
import {
  SCHEDULE_ID_PATTERN,
  scheduleBodySchema,
  scheduleListQuerySchema,
} from "../schedules/schedule-schema";
import { idempotencyKeySchema, opIdParamSchema, siteParamSchema } from "./routes/operations";
import { historyQuerySchema } from "./routes/sites";
import { refusalSchema, verdictSchema } from "../operations/verdict";
import { queuePositionSchema, siteStateSchema } from "../operations/site-state";

// Request parts are generated from the zod schemas the routes parse with (zod's own JSON Schema
// output, draft 2020-12 = OpenAPI 3.1), so the document cannot drift from what the server accepts.
type Json = Record<string, unknown>;
const jsonSchema = (schema: z.ZodType, io: "input" | "output" = "input"): Json => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
  return rest;
};
const paramsOf = (schema: z.ZodObject, where: "path" | "query", io: "input" | "output" = "input") => {
  const whole = jsonSchema(schema, io) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(whole.properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || ((whole.required ?? []).includes(name) && !("default" in s)),
    schema: s,
  }));
};
const scheduleParamSchema = z.strictObject({
  site: siteParamSchema.shape.site,
  scheduleId: z.string().regex(SCHEDULE_ID_PATTERN),
});

// The route checks `operation` against the registry in a refinement zod cannot express: name the kinds.
const scheduleBody = jsonSchema(scheduleBodySchema(60)) as { properties: Json };
const scheduleRequest = {
  ...scheduleBody,
  properties: { ...scheduleBody.properties, operation: { $ref: "#/components/schemas/OperationKind" } },
};

const json = (schema: object) => ({ "application/json": { schema } });
/**
 * The documented error answers of a route, by status: each is `components/responses/Error<status>`,
 * whose codes are those the error table gives that status. Only a status some code has compiles.
 */
const errors = (...statuses: ErrorStatus[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { $ref: `#/components/responses/Error${s}` }]));
/** One `Error<status>` component per status of the error table, built by `entry` from its codes. */
const byErrorStatus = (entry: (status: ErrorStatus, codes: ErrorCode[]) => object) =>
  Object.fromEntries(errorStatuses().map((s) => [`Error${s}`, entry(s, codesWithStatus(s))]));
const [siteParam] = paramsOf(siteParamSchema, "path");
const [idParam] = paramsOf(opIdParamSchema, "path");
const scheduleParams = paramsOf(scheduleParamSchema, "path");
const historyQuery = paramsOf(historyQuerySchema, "query", "output");
const scheduleListQuery = paramsOf(scheduleListQuerySchema, "query", "output");
const idempotencyHeader = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  schema: jsonSchema(idempotencyKeySchema),
};
const secured = [{ bearer: [] }];
/** Every bearer route: a bad or missing token, a scope it lacks, a spent rate budget. */
const bearerErrors = errors(401, 403, 429);
const signedHook = (summary: string, headers: string[]) => ({
  summary,
  security: [],
  parameters: headers.map((name) => ({ name, in: "header", required: true, schema: { type: "string" } })),
  responses: {
    "200": {
      description: "Acknowledged with a text for the chat (within 3 s); outcomes follow on the reply URL",
    },
    ...errors(400, 401, 413, 415),
  },
});

/** The dashboard's form posts answer a refusal as an HTML page (the code and message in it), not JSON. */
const htmlPages = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((st) => [
      String(st),
      {
        description:
          st === 403
            ? "Not from a page this server served (Origin/Referer), no valid form token, or a refused decision: an HTML page"
            : "Refused: an HTML page naming the code",
        content: { "text/html": { schema: { type: "string" } } },
      },
    ]),
  );
const htmlForbidden = htmlPages(403);

/**
 * The API contract, served at /v1/openapi.json. test/api/openapi.test.ts checks that every path and
 * method here is a real route and every route is here.
 */
export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "stackyard operations API",
    version: "1.0.0",
    description: "Queued, checked stack updates for community sites.",
  },
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer", description: "Scoped token; only its SHA-256 is stored." },
    },
    responses: byErrorStatus((status, codes) => ({
      description: codes.join(", "),
      content: json({ $ref: `#/components/schemas/Error${status}` }),
    })),
    schemas: {
      Error: {
        type: "object",
        required: ["error"],
        properties: {
          error: {
            type: "object",
            required: ["code", "message", "details"],
            properties: {
              code: {
                type: "string",
                enum: ERROR_CODE_LIST,
              },
              message: { type: "string" },
              details: { type: "object", description: "Names the field, rule, value and limit involved." },
            },
          },
        },
      },
      // The same body, with only the codes the table answers with that status.
      ...byErrorStatus((_status, codes) => ({
        allOf: [{ $ref: "#/components/schemas/Error" }],
        properties: { error: { properties: { code: { enum: codes } } } },
      })),
      OperationRequest: jsonSchema(operationRequestSchema),
      OperationKind: { type: "string", enum: [...OPERATION_KINDS] },
      ScheduleRequest: {
        ...scheduleRequest,
        description:
          "cron: 5 fields (minute first) or 6 (seconds first), firings at least STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS apart; params are validated against the operation's own schema",
      },
      Accepted: {
        type: "object",
        required: ["id", "status", "links"],
        properties: {
          id: { type: "string" },
          status: { type: "string" },
          operation: { $ref: "#/components/schemas/OperationKind" },
          site: { type: "string" },
          plan: { type: "object" },
          queue: { $ref: "#/components/schemas/QueuePosition" },
          links: { type: "object" },
        },
      },
      QueuePosition: jsonSchema(queuePositionSchema, "output"),
      SiteState: jsonSchema(siteStateSchema, "output"),
      Operation: {
        type: "object",
        required: ["id", "site", "kind", "status", "createdAt"],
        properties: {
          id: { type: "string" },
          site: { type: "string" },
          kind: { $ref: "#/components/schemas/OperationKind" },
          status: {
            type: "string",
            enum: ["queued", "running", "awaiting-approval", "succeeded", "failed", "cancelled", "expired"],
          },
          params: { type: "object" },
          requester: { type: "object" },
          plan: { type: "object" },
          preview: { type: "object" },
          checks: {
            type: "array",
            description: "What each rule checked before `up` said: passes and refusals.",
            items: jsonSchema(verdictSchema, "output"),
          },
          result: { type: "object" },
          outputs: { type: "object", description: "Secret outputs are redacted." },
          revision: { type: "object" },
          recovery: { type: "array" },
          timings: { type: "object" },
          reason: { type: "string" },
          failure: {
            type: "object",
            description: "Why the operation did not succeed, typed: `reason` is `<code>: <message>`.",
            required: ["code", "message"],
            properties: { code: { type: "string", enum: FAILURE_CODE_LIST }, message: { type: "string" } },
          },
          createdAt: { type: "string" },
          startedAt: { type: "string" },
          finishedAt: { type: "string" },
          links: { type: "object" },
          queue: { $ref: "#/components/schemas/QueuePosition" },
          refusals: {
            type: "array",
            description: "Every refusal, from any layer, with the rule, the value and the limit.",
            items: jsonSchema(refusalSchema, "output"),
          },
          approval: {
            type: "object",
            description: "Why the operation waits for a second principal; expiresAt, approvedBy, approvedAt.",
          },
          guardNotes: { type: "array", items: { type: "string" } },
          drift: {
            type: "object",
            description:
              "A detect-drift operation's report: `drifted` (urn, type, name, property, expected, found), `deleted`, `resources`, `remediation`.",
          },
          hosts: {
            type: "object",
            description:
              "The verify phase after `up` (operations that move a database topology): `converged`, `waitedMs`, `rounds`, and per node the expected role and what was observed.",
          },
        },
      },
    },
  },
  security: secured,
  paths: {
    "/healthz": {
      get: {
        summary: "Liveness",
        security: [],
        responses: { "200": { description: "The process answers" } },
      },
    },
    "/readyz": {
      get: {
        summary: "Readiness (Redis answers)",
        security: [],
        responses: { "200": { description: "Ready" }, ...errors(503) },
      },
    },
    "/v1/openapi.json": {
      get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } },
    },
    "/v1/sites": {
      get: {
        summary: "Sites the token may see (scope sites:read)",
        responses: { "200": { description: "Sites" }, ...bearerErrors, ...errors(503) },
      },
    },
    "/v1/sites/{site}": {
      get: {
        summary:
          "A site's state at a glance (scope operations:read): wanted and deployed revision, sidekiq pools, database topology, offered operations, running/queued/awaiting/last operations; `Accept: text/plain` gives the lines `stackyard status` prints",
        parameters: [siteParam],
        responses: {
          "200": {
            description: "Site state",
            content: {
              ...json({ $ref: "#/components/schemas/SiteState" }),
              "text/plain": { schema: { type: "string" } },
            },
          },
          ...bearerErrors,
          ...errors(400, 404, 500, 503),
        },
      },
    },
    "/v1/sites/{site}/operations": {
      get: {
        summary: "Operation history, newest first (scope operations:read)",
        parameters: [siteParam, ...historyQuery],
        responses: {
          "200": { description: "History" },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
      post: {
        summary: "Queue an operation (scope operations:write for the site and operation)",
        parameters: [siteParam, idempotencyHeader],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/OperationRequest" }) },
        responses: {
          "202": { description: "Queued", content: json({ $ref: "#/components/schemas/Accepted" }) },
          "200": {
            description: "Idempotency-Key replay: the first operation",
            content: json({ $ref: "#/components/schemas/Accepted" }),
          },
          ...bearerErrors,
          ...errors(400, 404, 413, 415, 422, 500, 503),
        },
      },
    },
    "/v1/operations/{id}": {
      get: {
        summary: "Status, plan, preview summary, results, outputs, timings",
        parameters: [idParam],
        responses: {
          "200": { description: "Operation", content: json({ $ref: "#/components/schemas/Operation" }) },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
    },
    "/v1/operations/{id}/events": {
      get: {
        summary:
          "Live events as Server-Sent Events (supports Last-Event-ID); at most STACKYARD_SSE_STREAMS_PER_TOKEN at once per token (429 TOO_MANY_STREAMS)",
        parameters: [idParam],
        responses: {
          "200": { description: "text/event-stream" },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
    },
    "/v1/sites/{site}/drift": {
      get: {
        summary:
          "The site's latest drift report: each property changed out of band (expected, found) and each resource deleted; null before the first detection (scope sites:read)",
        parameters: [siteParam],
        responses: {
          "200": { description: "Drift" },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
      post: {
        summary:
          "Detect drift now: an ordinary detect-drift operation queued on the stack, no body or {} (scope operations:write for the site and detect-drift)",
        parameters: [siteParam, idempotencyHeader],
        responses: {
          "202": { description: "Queued", content: json({ $ref: "#/components/schemas/Accepted" }) },
          "200": {
            description: "Idempotency-Key replay: the first operation",
            content: json({ $ref: "#/components/schemas/Accepted" }),
          },
          ...bearerErrors,
          ...errors(400, 404, 413, 415, 422, 503),
        },
      },
    },
    "/v1/sites/{site}/schedules": {
      get: {
        summary:
          "A page of a site's cron schedules, oldest first, with their next runs and last firing; nextCursor while more follow (scope operations:read)",
        parameters: [siteParam, ...scheduleListQuery],
        responses: {
          "200": { description: "Schedules" },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
      post: {
        summary:
          "Create a schedule that submits an ordinary operation requested by its creator via schedule:<id>, re-authorized at each firing (scope operations:write for the site and operation)",
        parameters: [siteParam],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/ScheduleRequest" }) },
        responses: {
          "201": { description: "Created" },
          ...bearerErrors,
          ...errors(400, 404, 409, 413, 415, 422, 503),
        },
      },
    },
    "/v1/sites/{site}/schedules/{scheduleId}": {
      delete: {
        summary: "Delete a schedule (scope operations:write for the site and the schedule's operation)",
        parameters: scheduleParams,
        responses: {
          "200": { description: "Deleted" },
          ...bearerErrors,
          ...errors(400, 404, 503),
        },
      },
    },
    "/v1/hooks/slack": {
      post: signedHook(
        "Slack slash command (form body; X-Slack-Signature v0 HMAC, 5-minute window, replays refused; the user map grants scopes)",
        ["X-Slack-Request-Timestamp", "X-Slack-Signature"],
      ),
    },
    "/v1/hooks/slack/actions": {
      post: signedHook(
        "Slack interactivity: signed block_actions payloads (form field payload=<JSON>) from the approval request's Approve / Reject buttons; answered on response_url or by the bot",
        ["X-Slack-Request-Timestamp", "X-Slack-Signature"],
      ),
    },
    "/v1/hooks/chat": {
      post: signedHook(
        "Generic chat webhook: JSON {text, user, reply_url?}; X-Stackyard-Signature v1=<hex HMAC of v1:<ts>:<body>>",
        ["X-Stackyard-Timestamp", "X-Stackyard-Signature"],
      ),
    },
    "/metrics": {
      get: {
        summary:
          "Prometheus metrics (scope metrics:read): queue depth per stack, operation durations, guard refusals",
        responses: {
          "200": { description: "text/plain; version=0.0.4" },
          ...errors(401, 403, 503),
        },
      },
    },
    "/dashboard": {
      get: {
        summary: "Recent operations (HTML; session cookie from /dashboard/login)",
        security: [],
        responses: { "200": { description: "text/html" }, "303": { description: "To the login page" } },
      },
    },
    "/dashboard/login": {
      get: { summary: "Login form", security: [], responses: { "200": { description: "text/html" } } },
      post: {
        summary: "Trade a token (scope operations:read) for an HttpOnly SameSite=Strict session cookie",
        security: [],
        responses: {
          "303": { description: "Logged in" },
          ...errors(400),
          "401": { description: "Unknown token or no operations:read" },
          ...htmlForbidden,
          ...errors(413, 415),
        },
      },
    },
    "/dashboard/operations/{id}": {
      get: {
        summary:
          "One operation (HTML): plan, preview steps, checks and refusals, approval, timings; its events follow live",
        security: [],
        parameters: [idParam],
        responses: {
          "200": { description: "text/html" },
          "303": { description: "To the login page" },
          ...htmlPages(400, 404),
        },
      },
    },
    "/dashboard/operations/{id}/events": {
      get: {
        summary: "The operation's event stream (Server-Sent Events) for the dashboard session",
        security: [],
        parameters: [idParam],
        responses: {
          "200": { description: "text/event-stream" },
          "303": { description: "To the login page" },
          ...errors(400, 404, 429),
        },
      },
    },
    "/dashboard/approvals": {
      get: {
        summary: "Operations awaiting approval, with Approve / Reject forms (HTML)",
        security: [],
        responses: { "200": { description: "text/html" }, "303": { description: "To the login page" } },
      },
    },
    "/dashboard/operations/{id}/approve": dashboardDecision(
      "Approve as the session's principal (form with the session's csrf token, same Origin; scope operations:approve; not the requester)",
    ),
    "/dashboard/operations/{id}/reject": dashboardDecision(
      "Reject as the session's principal (form with the session's csrf token, same Origin; scope operations:approve)",
    ),
    "/dashboard/logout": {
      post: {
        summary: "End the session",
        security: [],
        responses: { "303": { description: "Logged out" }, ...errors(400), ...htmlForbidden },
      },
    },
    "/v1/operations/{id}/approve": {
      post: {
        summary:
          "Approve an operation awaiting approval (scope operations:approve; not its requester): its update is queued",
        parameters: [idParam],
        responses: {
          "202": { description: "Approved; the up phase is queued" },
          ...bearerErrors,
          ...errors(400, 404, 409, 503),
        },
      },
    },
    "/v1/operations/{id}/reject": {
      post: {
        summary:
          "Reject an operation awaiting approval (scope operations:approve): it ends cancelled with failure APPROVAL_REJECTED",
        parameters: [idParam],
        responses: {
          "200": { description: "Rejected; nothing was applied" },
          ...bearerErrors,
          ...errors(400, 404, 409, 503),
        },
      },
    },
    "/v1/operations/{id}/cancel": {
      post: {
        summary: "Cancel: a queued operation is removed, a running one stops at the engine's next safe point",
        parameters: [idParam],
        responses: {
          "202": { description: "Cancelled or cancelling" },
          ...bearerErrors,
          ...errors(400, 404, 409, 503),
        },
      },
    },
  },
} as const;

/** A dashboard form post that decides an approval: it redirects to the operation's page or refuses as HTML. */
function dashboardDecision(summary: string) {
  return {
    post: {
      summary,
      security: [],
      parameters: [idParam],
      responses: { "303": { description: "To the operation's page" }, ...htmlPages(400, 403, 404, 409) },
    },
  };
}
