import { OPERATION_KINDS } from "../operations/types";

const error = { $ref: "#/components/responses/Error" };
const siteParam = {
  name: "site",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{0,39}$" },
};
const idParam = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^op-[0-9a-f-]{36}$" },
};
const secured = [{ bearer: [] }];
const scheduleIdParam = {
  name: "scheduleId",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^sch-[0-9a-f]{16}$" },
};
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
                ],
              },
              message: { type: "string" },
              details: { type: "object", description: "Names the field, rule, value and limit involved." },
            },
          },
        },
      },
      OperationRequest: {
        oneOf: [
          {
            type: "object",
            additionalProperties: false,
            required: ["operation", "params"],
            properties: {
              operation: { const: "scale-sidekiq" },
              params: {
                type: "object",
                additionalProperties: false,
                required: ["count"],
                properties: { count: { type: "integer", minimum: 1 }, pool: { type: "string" } },
              },
            },
          },
          {
            type: "object",
            additionalProperties: false,
            required: ["operation", "params"],
            properties: {
              operation: { const: "add-read-replica" },
              params: {
                type: "object",
                additionalProperties: false,
                required: ["name"],
                properties: {
                  name: { type: "string" },
                  size: { type: "string" },
                  volumeGb: { type: "integer" },
                },
              },
            },
          },
          {
            type: "object",
            additionalProperties: false,
            required: ["operation", "params"],
            properties: {
              operation: { const: "remove-read-replica" },
              params: {
                type: "object",
                additionalProperties: false,
                required: ["name"],
                properties: { name: { type: "string" }, allowNoStandby: { type: "boolean" } },
              },
            },
          },
          {
            type: "object",
            additionalProperties: false,
            required: ["operation"],
            properties: {
              operation: { const: "failover" },
              params: {
                type: "object",
                additionalProperties: false,
                properties: {
                  target: { type: "string" },
                  acceptDataLoss: { type: "boolean" },
                  reason: { type: "string" },
                },
              },
            },
          },
        ],
      },
      OperationKind: { type: "string", enum: [...OPERATION_KINDS] },
      ScheduleRequest: {
        type: "object",
        additionalProperties: false,
        required: ["cron", "operation"],
        properties: {
          cron: {
            type: "string",
            description:
              "5 fields (minute first) or 6 (seconds first); firings at least STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS apart",
          },
          timezone: { type: "string", default: "UTC", description: "IANA time zone" },
          operation: { $ref: "#/components/schemas/OperationKind" },
          params: { type: "object", description: "Validated against the operation's own schema at creation" },
          description: { type: "string", maxLength: 200 },
        },
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
          checks: { type: "array" },
          result: { type: "object" },
          outputs: { type: "object", description: "Secret outputs are redacted." },
          revision: { type: "object" },
          recovery: { type: "array" },
          timings: { type: "object" },
          reason: { type: "string" },
          createdAt: { type: "string" },
          startedAt: { type: "string" },
          finishedAt: { type: "string" },
          links: { type: "object" },
          refusals: {
            type: "array",
            description: "Every refusal, from any layer, with the rule, the value and the limit.",
            items: {
              type: "object",
              required: ["layer", "rule", "message"],
              properties: {
                layer: { type: "string", enum: ["guard", "policy", "blast-radius"] },
                rule: { type: "string" },
                value: {},
                limit: {},
                message: { type: "string" },
              },
            },
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
        responses: { "200": { description: "Sites" }, "401": error, "403": error },
      },
    },
    "/v1/sites/{site}": {
      get: {
        summary: "A site's config revision and last deployed outputs",
        parameters: [siteParam],
        responses: { "200": { description: "Site" }, "401": error, "403": error, "404": error },
      },
    },
    "/v1/sites/{site}/operations": {
      get: {
        summary: "Operation history, newest first (scope operations:read)",
        parameters: [
          siteParam,
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200 } },
        ],
        responses: {
          "200": { description: "History" },
          "400": error,
          "401": error,
          "403": error,
          "404": error,
        },
      },
      post: {
        summary: "Queue an operation (scope operations:write for the site and operation)",
        parameters: [
          siteParam,
          { name: "Idempotency-Key", in: "header", schema: { type: "string", maxLength: 200 } },
        ],
        requestBody: { required: true, content: json({ $ref: "#/components/schemas/OperationRequest" }) },
        responses: {
          "202": { description: "Queued", content: json({ $ref: "#/components/schemas/Accepted" }) },
          "200": {
            description: "Idempotency-Key replay: the first operation",
            content: json({ $ref: "#/components/schemas/Accepted" }),
          },
          "400": error,
          "401": error,
          "403": error,
          "404": error,
          "413": error,
          "415": error,
          "422": error,
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
          "401": error,
          "403": error,
          "404": error,
        },
      },
    },
    "/v1/operations/{id}/events": {
      get: {
        summary: "Live events as Server-Sent Events (supports Last-Event-ID)",
        parameters: [idParam],
        responses: { "200": { description: "text/event-stream" }, "401": error, "403": error, "404": error },
      },
    },
    "/v1/sites/{site}/schedules": {
      get: {
        summary:
          "A page of a site's cron schedules, oldest first, with their next runs and last firing; nextCursor while more follow (scope operations:read)",
        parameters: [
          siteParam,
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200 } },
          { name: "cursor", in: "query", schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,200}$" } },
        ],
        responses: {
          "200": { description: "Schedules" },
          "400": error,
          "401": error,
          "403": error,
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
          "401": error,
          "403": error,
          "404": error,
          "409": error,
          "415": error,
          "503": error,
        },
      },
    },
    "/v1/sites/{site}/schedules/{scheduleId}": {
      delete: {
        summary: "Delete a schedule (scope operations:write for the site and the schedule's operation)",
        parameters: [siteParam, scheduleIdParam],
        responses: {
          "200": { description: "Deleted" },
          "400": error,
          "401": error,
          "403": error,
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
        responses: { "200": { description: "text/plain; version=0.0.4" }, "401": error, "403": error },
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
          "401": { description: "Unknown token or no operations:read" },
        },
      },
    },
    "/dashboard/logout": {
      post: { summary: "End the session", security: [], responses: { "303": { description: "Logged out" } } },
    },
    "/v1/operations/{id}/approve": {
      post: {
        summary:
          "Approve an operation awaiting approval (scope operations:approve; not its requester): its update is queued",
        parameters: [idParam],
        responses: {
          "202": { description: "Approved; the up phase is queued" },
          "401": error,
          "403": error,
          "404": error,
          "409": error,
        },
      },
    },
    "/v1/operations/{id}/cancel": {
      post: {
        summary: "Cancel: a queued operation is removed, a running one stops at the engine's next safe point",
        parameters: [idParam],
        responses: {
          "202": { description: "Cancelled or cancelling" },
          "401": error,
          "403": error,
          "404": error,
          "409": error,
        },
      },
    },
  },
} as const;
