import { Router } from "express";
import { Gauge, Registry } from "prom-client";
import { authenticate, authorize } from "../api/auth";
import type { TokenEntry } from "../auth/tokens";
import { registerDriftMetrics, type DriftReadings } from "./drift-metrics";
import { installOperationMetrics, operationRegistry } from "./operation-metrics";

/** The queues as metrics need them: BullMQ's counts per stack. */
export interface QueueCounts {
  queueCounts(site: string): Promise<Record<string, number>>;
}

const STATES = ["waiting", "active", "delayed", "prioritized", "failed"] as const;

/**
 * `GET /metrics` in Prometheus text format, for a bearer token with scope `metrics:read` (Prometheus
 * sends one with `authorization.credentials`). Queue depth is read from BullMQ at scrape time, so
 * it is right in every API process whatever process runs the workers.
 */
export function metricsRoutes(
  tokens: readonly TokenEntry[],
  sites: readonly string[],
  queues?: QueueCounts,
  drift?: DriftReadings,
): Router {
  installOperationMetrics();
  const perApp = new Registry();
  new Gauge({
    name: "stackyard_queue_depth",
    help: "Jobs in each stack's queue by state (at most one active per stack)",
    labelNames: ["stack", "state"] as const,
    registers: [perApp],
    async collect() {
      if (!queues) return;
      this.reset();
      for (const site of sites) {
        const c = await queues.queueCounts(site);
        for (const s of STATES) this.set({ stack: site, state: s }, c[s] ?? 0);
      }
    },
  });
  if (drift) registerDriftMetrics(perApp, sites, drift);
  const r = Router();
  r.get("/metrics", authenticate(tokens), async (req, res) => {
    authorize(req, "metrics:read");
    const merged = Registry.merge([operationRegistry, perApp]);
    res.set("Content-Type", merged.contentType).send(await merged.metrics());
  });
  return r;
}
