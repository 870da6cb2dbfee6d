import { redisKeys } from "../infra/redis-keys";
import type { Coalescer } from "../operations/operation-service";
import type { OperationRequest } from "../operations/registry";
import type { SiteConfig } from "../programs/site-config";

/**
 * A detection asked for while another is still queued on the stack rides on it: both would read
 * the same cloud, so a fast schedule or a chat loop never piles up engine runs behind an update.
 */
export class DriftCoalescer implements Coalescer {
  keyFor(config: SiteConfig, request: OperationRequest): string | undefined {
    return request.operation === "detect-drift" ? redisKeys.coalesceDrift(config.site) : undefined;
  }
}

/** The first coalescer with a key for the request decides (each knows one kind). */
export function firstCoalescer(...cs: Coalescer[]): Coalescer {
  return { keyFor: (config, request) => cs.map((c) => c.keyFor(config, request)).find((k) => k) };
}
