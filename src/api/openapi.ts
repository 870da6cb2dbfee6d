import { z } from "zod";
import { OPERATION_KINDS, operationRequestSchema } from "../operations/registry";
import {
  SCHEDULE_ID_PATTERN,
  scheduleBodySchema,
  scheduleListQuerySchema,
} from "../schedules/schedule-schema";
import { idempotencyKeySchema, opIdParamSchema, siteParamSchema } from "./routes/operations";
import { historyQuerySchema } from "./routes/sites";
import { refusalSchema, verdictSchema } from "../operations/verdict";

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

const error = { $ref: "#/components/responses/Error" };
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
const bearerErrors = { "401": error, "403": error, "429": error };
const signedHook = (summary: string, headers: string[]) => ({
  summary,
  security: [],
  parameters: headers.map((name) => ({ name, in: "header", required: true, schema: { type: "string" } })),
  responses: {
    "200": {
      description: "Acknowledged with a text for the chat (within 3 s); outcomes follow on the reply URL",
    },
    "400": error,
    "401": error,
    "413": error,
    "415": error,
  },
});
const json = (schema: object) => ({ "application/json": { schema } });

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
    responses: {
      Error: { description: "Any refusal", content: json({ $ref: "#/components/schemas/Error" }) },
    },
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
                enum: [
                  "VALIDATION_FAILED",
                  "MALFORMED_JSON",
                  "UNAUTHENTICATED",
                  "FORBIDDEN",
                  "SITE_NOT_FOUND",
                  "OPERATION_NOT_FOUND",
                  "ROUTE_NOT_FOUND",
                  "OPERATION_FINISHED",
                  "PAYLOAD_TOO_LARGE",
                  "UNSUPPORTED_MEDIA_TYPE",
                  "OPERATION_UNSUPPORTED",
                  "GUARD_REFUSED",
                  "IDEMPOTENCY_KEY_REUSED",
                  "STACK_CONFIG_INVALID",
                  "SERVICE_UNAVAILABLE",
                  "INTERNAL",
                  "SCHEDULE_NOT_FOUND",
                  "SCHEDULES_DISABLED",
                  "SCHEDULE_LIMIT_REACHED",
                  "SELF_APPROVAL_FORBIDDEN",
                  "APPROVAL_EXPIRED",
                  "OPERATION_NOT_AWAITING_APPROVAL",
                  "UNSUPPORTED_CHARSET",
                  "UNSUPPORTED_ENCODING",
                  "MALFORMED_BODY",
                  "RATE_LIMITED",
                  "TOO_MANY_STREAMS",
                  "METHOD_NOT_ALLOWED",
                ],
              },
              message: { type: "string" },
              details: { type: "object", description: "Names the field, rule, value and limit involved." },
            },
          },
        },
      },
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
          links: { type: "object" },
        },
      },
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
            properties: { code: { type: "string" }, message: { type: "string" } },
          },
          createdAt: { type: "string" },
          startedAt: { type: "string" },
          finishedAt: { type: "string" },
          links: { type: "object" },
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
        responses: { "200": { description: "Ready" }, "503": error },
      },
    },
    "/v1/openapi.json": {
      get: { summary: "This document", security: [], responses: { "200": { description: "OpenAPI 3.1" } } },
    },
    "/v1/sites": {
      get: {
        summary: "Sites the token may see (scope sites:read)",
        responses: { "200": { description: "Sites" }, ...bearerErrors, "503": error },
      },
    },
    "/v1/sites/{site}": {
      get: {
        summary: "A site's config revision and last deployed outputs",
        parameters: [siteParam],
        responses: {
          "200": { description: "Site" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "500": error,
          "503": error,
        },
      },
    },
    "/v1/sites/{site}/operations": {
      get: {
        summary: "Operation history, newest first (scope operations:read)",
        parameters: [siteParam, ...historyQuery],
        responses: {
          "200": { description: "History" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "503": error,
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
          "400": error,
          ...bearerErrors,
          "404": error,
          "413": error,
          "415": error,
          "422": error,
          "500": error,
          "503": error,
        },
      },
    },
    "/v1/operations/{id}": {
      get: {
        summary: "Status, plan, preview summary, results, outputs, timings",
        parameters: [idParam],
        responses: {
          "200": { description: "Operation", content: json({ $ref: "#/components/schemas/Operation" }) },
          "400": error,
          ...bearerErrors,
          "404": error,
          "503": error,
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
          "400": error,
          ...bearerErrors,
          "404": error,
          "503": error,
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
          "400": error,
          ...bearerErrors,
          "404": error,
          "503": error,
        },
      },
      post: {
        summary:
          "Create a schedule that submits an ordinary operation requested by its creator via schedule:<id>, re-authorized at each firing (scope operations:write for the site and operation)",
        parameters: [siteParam],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/ScheduleRequest" }) },
        responses: {
          "201": { description: "Created" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "409": error,
          "413": error,
          "415": error,
          "422": error,
          "503": error,
        },
      },
    },
    "/v1/sites/{site}/schedules/{scheduleId}": {
      delete: {
        summary: "Delete a schedule (scope operations:write for the site and the schedule's operation)",
        parameters: scheduleParams,
        responses: {
          "200": { description: "Deleted" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "503": error,
        },
      },
    },
    "/v1/hooks/slack": {
      post: signedHook(
        "Slack slash command (form body; X-Slack-Signature v0 HMAC, 5-minute window, replays refused; the user map grants scopes)",
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
          "401": error,
          "403": error,
          "503": error,
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
          "400": error,
          "401": { description: "Unknown token or no operations:read" },
          "403": error,
          "413": error,
          "415": error,
        },
      },
    },
    "/dashboard/logout": {
      post: {
        summary: "End the session",
        security: [],
        responses: { "303": { description: "Logged out" }, "400": error, "403": error },
      },
    },
    "/v1/operations/{id}/approve": {
      post: {
        summary:
          "Approve an operation awaiting approval (scope operations:approve; not its requester): its update is queued",
        parameters: [idParam],
        responses: {
          "202": { description: "Approved; the up phase is queued" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "409": error,
          "503": error,
        },
      },
    },
    "/v1/operations/{id}/cancel": {
      post: {
        summary: "Cancel: a queued operation is removed, a running one stops at the engine's next safe point",
        parameters: [idParam],
        responses: {
          "202": { description: "Cancelled or cancelling" },
          "400": error,
          ...bearerErrors,
          "404": error,
          "409": error,
          "503": error,
        },
      },
    },
  },
} as const;
