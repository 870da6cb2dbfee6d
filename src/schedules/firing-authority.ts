import { allows, type TokenEntry } from "../auth/tokens";
import { DRIFT_PRINCIPAL } from "../operations/drift-settings";
import type { Schedule } from "./schedule-schema";

export type FiringAuthority = { ok: true } | { ok: false; reason: string };

/**
 * A schedule acts with its creator's authority, as that authority stands at each firing: the
 * creator's token must still be configured and still hold operations:write for the schedule's
 * site and operation. Revoking the token (or narrowing it) stops its schedules at the next firing.
 */
export function firingAuthority(
  tokens: readonly TokenEntry[],
  s: Pick<Schedule, "site" | "operation" | "createdBy">,
): FiringAuthority {
  // The service's own drift schedules (one per site, made at start) may only look: detect-drift.
  if (s.createdBy === DRIFT_PRINCIPAL)
    return s.operation === "detect-drift"
      ? { ok: true }
      : { ok: false, reason: `${DRIFT_PRINCIPAL} may only run detect-drift` };
  const t = tokens.find((x) => x.id === s.createdBy);
  if (!t) return { ok: false, reason: `the creator's token ${s.createdBy} is no longer configured` };
  const p = { tokenId: t.id, sites: t.sites, operations: t.operations, scopes: t.scopes };
  if (!allows(p, "operations:write", s.site, s.operation))
    return {
      ok: false,
      reason: `token ${s.createdBy} may no longer run ${s.operation} on ${s.site} (operations:write)`,
    };
  return { ok: true };
}
