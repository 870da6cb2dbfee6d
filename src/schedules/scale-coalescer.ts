import type IORedis from "ioredis";
import { ledgerKeys } from "../operations/ledger";
import type { OperationRecord } from "../operations/operation-record";
import type { Coalescer } from "../operations/operation-service";
import type { OperationRequest } from "../operations/registry";
import { sidekiqKnob } from "../operations/knobs/sidekiq-knob";
import type { SiteConfig } from "../programs/site-config";

// One atomic step: if the stack+pool's pending operation is still queued (no worker has moved it
// to running, which is itself an atomic script on the same hash), the new request's wanted value
// replaces the pending one's and the new record rides on it; otherwise the new record becomes the
// pending one. Neither side may involve an approval: an operation that waits for or holds one
// keeps the params its approver saw, and a request that needs one runs (and waits) on its own. Records are written here, not by Ledger.create, so that "pending" never names a
// record that does not exist yet (two requests would both become carriers, in either queue order).
const CREATE_OR_ATTACH = `
local carrier = redis.call('GET', KEYS[1])
local attached = ''
if carrier then
  local ck = ARGV[4] .. carrier
  if ARGV[7] == '0' and redis.call('HGET', ck, 'status') == '"queued"' and redis.call('HGET', ck, 'cancelRequested') ~= 'true' and redis.call('HEXISTS', ck, 'approval') == 0 then
    redis.call('HSET', ck, 'params', ARGV[3])
    redis.call('SADD', ck .. ':riders', ARGV[1])
    redis.call('XADD', ck .. ':events', 'MAXLEN', '~', '5000', '*', 'type', 'coalesced', 'data', ARGV[6])
    attached = carrier
  end
end
for i = 8, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if attached ~= '' then
  redis.call('HSET', KEYS[2], 'coalescedInto', cjson.encode(attached))
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', 604800)
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '5000', '*', 'type', 'status', 'data', ARGV[5])
return attached
`;

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
    return pool === undefined ? undefined : `stackyard:coalesce:${config.site}:scale-sidekiq:${pool}`;
  }

  async createOrAttach(key: string, rec: OperationRecord): Promise<string | undefined> {
    const fields = Object.entries(rec)
      .filter(([, v]) => v !== undefined)
      .flatMap(([k, v]) => [k, JSON.stringify(v)]);
    const attached = (await this.redis.eval(
      CREATE_OR_ATTACH,
      4,
      key,
      ledgerKeys.op(rec.id),
      ledgerKeys.siteOps(rec.site),
      ledgerKeys.events(rec.id),
      rec.id,
      String(Date.parse(rec.createdAt)),
      JSON.stringify(rec.params),
      ledgerKeys.op(""),
      JSON.stringify({ status: rec.status }),
      JSON.stringify({ operationId: rec.id, params: rec.params }),
      rec.approval ? "1" : "0",
      ...fields,
    )) as string;
    return attached === "" ? undefined : attached;
  }
}
