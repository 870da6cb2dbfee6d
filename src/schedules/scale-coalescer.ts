import { redisKeys } from "../infra/redis-keys";
import type { Coalescer } from "../operations/operation-service";
import type { OperationRequest } from "../operations/registry";
import { sidekiqKnob } from "../operations/knobs/sidekiq-knob";
import type { SiteConfig } from "../programs/site-config";

/**
 * Collapses a flood of scale-sidekiq requests for one stack and pool: while one such operation is
 * still queued, later requests do not queue an engine run of their own; they set the wanted count
 * on the queued one (the runner reads params when it starts) and record which operation carries
 * them. Every request keeps its own id and history entry and ends with its carrier's outcome.
 * This file decides which requests share a key; the ledger's create-or-ride step does the rest.
 */
export class ScaleCoalescer implements Coalescer {
  keyFor(config: SiteConfig, request: OperationRequest): string | undefined {
    if (request.operation !== "scale-sidekiq") return undefined;
    const knob = sidekiqKnob(config);
    if (!knob.ok) return undefined;
    const pools = Object.keys(knob.spec.pools);
    // Resolve an omitted pool, so `scale 5` and `scale 5 main` on a one-pool site share one key.
    const pool = request.params.pool ?? (pools.length === 1 ? pools[0] : undefined);
    return pool === undefined ? undefined : redisKeys.coalesce(config.site, pool);
  }
}
