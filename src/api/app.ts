import type { Queue } from "bullmq";
import express, { Router, type Express } from "express";
import type IORedis from "ioredis";
import type { ChatConfig } from "../chatops/chat-config";
import { chatRoutes } from "../chatops/chat-routes";
import { dashboardRoutes } from "../dashboard/dashboard-routes";
import { NotFoundError } from "../errors";
import { metricsRoutes } from "../metrics/metrics-routes";
import { scheduleRoutes } from "../schedules/schedule-routes";
import type { ScheduleService } from "../schedules/schedule-service";
import { SharedEventReader } from "../operations/event-reader";
import { DriftReports } from "../operations/drift-store";
import { DRIFT_PRINCIPAL } from "../operations/drift-settings";
import type { Ledger } from "../operations/ledger";
import type { OperationService } from "../operations/operation-service";
import { RunDurations } from "../operations/run-durations";
import { SiteStateReader } from "../operations/site-state";
import type { Logger } from "../infra/observability/logger";
import { authenticate } from "./auth";
import { errorHandler } from "./error-handler";
import { methodGuard } from "./method-guard";
import { openApiDocument } from "./openapi";
import { DEFAULT_RATE_LIMIT, rateLimit, type RateLimitSettings } from "./rate-limit";
import { driftRoutes } from "./routes/drift";
import { eventRoutes, type EventRouteDeps } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { operationRoutes } from "./routes/operations";
import { siteRoutes } from "./routes/sites";
import { StreamSlots } from "./stream-slots";
import type { TokenEntry } from "../auth/tokens";

/** What the operator's view needs beyond the core API; every part still answers (401/503) when its piece is absent. */
export interface OperatorViewDeps {
  chat?: ChatConfig;
  schedules?: ScheduleService;
  scheduleMinIntervalSeconds?: number;
  queueOf?: (site: string) => Queue;
  /** A stack's queue depth by state (the metrics); without it, read from `queueOf(site)`. */
  queueCounts?: (site: string) => Promise<Record<string, number>>;
  dashboard?: { sessionTtlSeconds: number; secureCookie: boolean };
}

export interface AppDeps {
  operations: OperationService;
  ledger: Ledger;
  redis: IORedis;
  tokens: readonly TokenEntry[];
  sites: readonly string[];
  logger: Logger;
  /** Request bodies above this are refused with 413 (operations are small). */
  bodyLimitBytes?: number;
  sseHeartbeatMs?: number;
  /** Concurrent event streams one token may hold in this process. @defaultValue 10 */
  streamsPerToken?: number;
  /** Requests per token per window, across every API process. @defaultValue 600 per 60 s */
  rateLimit?: RateLimitSettings;
  /** Chatops, schedules, dashboard, metrics (docs/operator-view.md). */
  operatorView?: OperatorViewDeps;
  /** A site's state at a glance. @defaultValue from the ledger and stack files, without database observation */
  siteState?: SiteStateReader;
}

/** The HTTP face of the service. No listen: callers (main.ts, tests) own the server. */
export function createApp(deps: AppDeps): Express {
  const limit = deps.bodyLimitBytes ?? 16 * 1024;
  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(methodGuard(openApiDocument.paths));
  app.use(healthRoutes(deps.redis));
  app.get("/v1/openapi.json", (_req, res) => {
    res.json(openApiDocument);
  });
  const siteState =
    deps.siteState ??
    new SiteStateReader({
      ledger: deps.ledger,
      stackFiles: deps.operations.stackFiles,
      sites: deps.sites,
      durations: new RunDurations(deps.redis),
      drift: new DriftReports(deps.redis),
    });
  // One reader and one set of stream slots for the API's event streams and the dashboard's.
  const events = {
    reader: new SharedEventReader(deps.redis, deps.ledger),
    slots: new StreamSlots(deps.streamsPerToken ?? 10),
    heartbeatMs: deps.sseHeartbeatMs,
  };
  const operator = operatorRoutes(deps, siteState, deps.operatorView ?? {}, events);
  app.use(operator.beforeAuth);
  // Parse only JSON, with a small limit; other content types reach the route unparsed and are refused there.
  // Authenticate before parsing: an anonymous caller costs no body parsing.
  app.use("/v1", authenticate(deps.tokens));
  app.use("/v1", rateLimit(deps.redis, deps.rateLimit ?? DEFAULT_RATE_LIMIT));
  app.use(express.json({ limit, strict: true, type: "application/json" }));
  app.use(operationRoutes(deps.operations, siteState));
  app.use(siteRoutes(deps.operations, deps.sites, siteState));
  app.use(
    driftRoutes({
      operations: deps.operations,
      siteState,
      latest: (site) => new DriftReports(deps.redis).latest(site),
      schedule: async (site) => deps.operatorView?.schedules?.system(site, "detect-drift", DRIFT_PRINCIPAL),
    }),
  );
  app.use(eventRoutes({ operations: deps.operations, ...events }));
  app.use(operator.afterAuth);
  app.use((req, _res, next) =>
    next(new NotFoundError("ROUTE_NOT_FOUND", `no route ${req.method} ${req.path}`)),
  );
  app.use(errorHandler(deps.logger, limit));
  return app;
}

/**
 * Routes with their own authentication (chat signatures, dashboard sessions, the metrics scope) go
 * before the API's bearer middleware and body parser; schedules are ordinary `/v1` JSON routes.
 */
function operatorRoutes(
  core: AppDeps,
  siteState: SiteStateReader,
  view: OperatorViewDeps,
  events: Omit<EventRouteDeps, "operations">,
): { beforeAuth: Router; afterAuth: Router } {
  const beforeAuth = Router();
  beforeAuth.use(
    chatRoutes({
      config: view.chat,
      operations: core.operations,
      siteState,
      ledger: core.ledger,
      redis: core.redis,
      logger: core.logger,
    }),
  );
  const queueCounts = view.queueCounts
    ? { queueCounts: view.queueCounts }
    : view.queueOf && {
        queueCounts: (site: string) =>
          view.queueOf!(site).getJobCounts("waiting", "active", "delayed", "prioritized", "failed"),
      };
  beforeAuth.use(metricsRoutes(core.tokens, core.sites, queueCounts, new DriftReports(core.redis)));
  beforeAuth.use(
    dashboardRoutes({
      tokens: core.tokens,
      sites: core.sites,
      ledger: core.ledger,
      operations: core.operations,
      siteState,
      events,
      redis: core.redis,
      logger: core.logger,
      queueOf: view.queueOf,
      sessionTtlSeconds: view.dashboard?.sessionTtlSeconds,
      secureCookie: view.dashboard?.secureCookie,
    }),
  );
  const afterAuth = Router();
  afterAuth.use(scheduleRoutes(view.schedules, view.scheduleMinIntervalSeconds ?? 60));
  return { beforeAuth, afterAuth };
}
