import type { Queue } from "bullmq";
import { Router } from "express";
import type { AppDeps } from "../api/app";
import type { ChatConfig } from "../chatops/chat-config";
import { chatRoutes } from "../chatops/chat-routes";
import { metricsRoutes } from "../metrics/metrics-routes";
import { scheduleRoutes } from "../schedules/schedule-routes";
import type { ScheduleService } from "../schedules/schedule-service";
import { dashboardRoutes } from "./dashboard-routes";

/** What the operator's view needs beyond the core API; every part still answers (401/503) when its piece is absent. */
export interface OperatorViewDeps {
  chat?: ChatConfig;
  schedules?: ScheduleService;
  scheduleMinIntervalSeconds?: number;
  queueOf?: (site: string) => Queue;
  dashboard?: { sessionTtlSeconds: number; secureCookie: boolean };
}

/** What the operator view shares with the API app. */
type CoreDeps = Pick<AppDeps, "operations" | "ledger" | "redis" | "tokens" | "sites" | "logger">;

/**
 * Routes with their own authentication (chat signatures, dashboard sessions, the metrics scope) go
 * before the API's bearer middleware and body parser; schedules are ordinary `/v1` JSON routes.
 */
export function operatorRoutes(core: CoreDeps, view: OperatorViewDeps = {}): { beforeAuth: Router; afterAuth: Router } {
  const beforeAuth = Router();
  beforeAuth.use(chatRoutes({ config: view.chat, operations: core.operations, ledger: core.ledger, redis: core.redis, logger: core.logger }));
  const queueCounts = view.queueOf && { queueCounts: (site: string) => view.queueOf!(site).getJobCounts("waiting", "active", "delayed", "prioritized", "failed") };
  beforeAuth.use(metricsRoutes(core.tokens, core.sites, queueCounts));
  beforeAuth.use(
    dashboardRoutes({
      tokens: core.tokens,
      sites: core.sites,
      ledger: core.ledger,
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
