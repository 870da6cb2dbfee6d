import { Counter, Gauge, type Registry } from "prom-client";
import type { DetectionCounts } from "../operations/drift-store";
import type { DriftReport } from "../operations/drift-report";

/** Drift as metrics read it (src/operations/drift-store.ts): the same Redis every process shares. */
export interface DriftReadings {
  latest(site: string): Promise<DriftReport | undefined>;
  detections(): Promise<DetectionCounts>;
}

/**
 * `stackyard_drifted_resources{stack}`: resources the site's latest detection found changed or
 * deleted out of band (0 after a clean one; absent before the first). `stackyard_drift_detections_total`
 * {stack,result}: detections run, `drifted` or `clean`. Read from Redis at scrape time, so every
 * API process answers the same whichever worker ran the detection.
 */
export function registerDriftMetrics(
  registry: Registry,
  sites: readonly string[],
  drift: DriftReadings,
): void {
  new Gauge({
    name: "stackyard_drifted_resources",
    help: "Resources the latest drift detection found changed or deleted out of band, per stack",
    labelNames: ["stack"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const site of sites) {
        const r = await drift.latest(site);
        if (r) this.set({ stack: site }, r.resources);
      }
    },
  });
  new Counter({
    name: "stackyard_drift_detections_total",
    help: "Drift detections run, per stack and result (drifted, clean)",
    labelNames: ["stack", "result"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await drift.detections())
        if (sites.includes(c.site)) this.inc({ stack: c.site, result: c.result }, c.count);
    },
  });
}
