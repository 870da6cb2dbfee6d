import type IORedis from "ioredis";
import { redisCommands } from "../infra/redis-commands";
import { redisKeys } from "../infra/redis-keys";
import type { OperationRecord } from "../operations/operation-record";
import type { Coalescer } from "../operations/operation-service";
import type { OperationRequest } from "../operations/registry";
import { sidekiqKnob } from "../operations/knobs/sidekiq-knob";
import type { SiteConfig } from "../programs/site-config";

// The atomic create-or-attach step is src/infra/lua/coalesce-create-or-attach-4.lua.

/**
 * Collapses a flood of scale-sidekiq requests for one stack and pool: while one such operation is
 * still queued, later requests do not queue an engine run of their own; they set the wanted count
 * on the queued one (the runner reads params when it starts) and record which operation carries
 * them. Every request keeps its own id and history entry and ends with its carrier's outcome.
 */
export class ScaleCoalescer implements Coalescer {
  constructor(private readonly redis: IORedis) {}

  keyFor(config: SiteConfig, request: OperationRequest): string | undefined {
    if (request.operation !== "scale-sidekiq") return undefined;
    const knob = sidekiqKnob(config);
    if (!knob.ok) return undefined;
    const pools = Object.keys(knob.spec.pools);
    // Resolve an omitted pool, so `scale 5` and `scale 5 main` on a one-pool site share one key.
    const pool = request.params.pool ?? (pools.length === 1 ? pools[0] : undefined);
    return pool === undefined ? undefined : redisKeys.coalesce(config.site, pool);
  }

  async createOrAttach(key: string, rec: OperationRecord): Promise<string | undefined> {
    const fields = Object.entries(rec)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => [k, JSON.stringify(v)]);
    const attached = (await redisCommands(this.redis).coalesceCreateOrAttach(
      key,
      redisKeys.op(rec.id),
      redisKeys.siteOps(rec.site),
      redisKeys.events(rec.id),
      rec.id,
      String(Date.parse(rec.createdAt)),
      JSON.stringify(rec.params),
      redisKeys.op(""),
      JSON.stringify({ status: rec.status }),
      JSON.stringify({ operationId: rec.id, params: rec.params }),
      rec.approval ? "1" : "0",
      ...fields,
    )) as string;
    return attached === "" ? undefined : attached;
  }
}
