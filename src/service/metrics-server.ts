import express from "express";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { errorHandler } from "../api/error-handler";
import type { TokenEntry } from "../auth/tokens";
import { NotFoundError } from "../errors";
import type { Logger } from "../infra/observability/logger";
import { metricsRoutes, type QueueCounts } from "../metrics/metrics-routes";

export interface MetricsServerOptions {
  host: string;
  /** 0: a free port (logged); set STACKYARD_METRICS_PORT for a fixed scrape target. */
  port: number;
  tokens: readonly TokenEntry[];
  sites: readonly string[];
  queues: QueueCounts;
  logger: Logger;
}

/**
 * `GET /metrics` of a worker-only process (`--role=worker`): the run-time durations and refusals
 * this process observed, and the queue depths, with the same token check as the API's /metrics.
 * Nothing else is served on this port.
 */
export async function startMetricsServer(
  o: MetricsServerOptions,
): Promise<{ port: number; stop(): Promise<void> }> {
  const app = express();
  app.disable("x-powered-by");
  app.use(metricsRoutes(o.tokens, o.sites, o.queues));
  app.use((req, _res, next) =>
    next(new NotFoundError("ROUTE_NOT_FOUND", `no route ${req.method} ${req.path}`)),
  );
  app.use(errorHandler(o.logger, 1024));
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  o.logger.info("metrics listening", { host: o.host, port, pid: process.pid });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
