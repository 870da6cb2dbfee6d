import type { OperationRecord, OperationStatus } from "../operations/operation-record";
import type { TransitionOptions } from "../operations/ledger";
import type { RehearsalTwin } from "./rehearsal-twin";
import type { RunnerDeps } from "./runner-deps";

export type { RehearsalTwin, TwinBuilder } from "./rehearsal-twin";

/**
 * A run's collaborators pointed at a rehearsal twin: the twin's engine settings (sandbox backend,
 * sandbox PULUMI_HOME, simulated cloud), its stack file, its simulated hosts for the checks and the
 * verify phase; no git (nothing is committed or pushed), no drift store (a twin's findings are not
 * the live site's). The ledger, the stack lock, the guards and the policy pack are the live run's.
 */
export function onTwin(deps: RunnerDeps, twin: RehearsalTwin): RunnerDeps {
  return {
    ...deps,
    engine: () => twin.engine,
    stackFiles: twin.stackFiles,
    facts: twin.facts,
    inspectPendingCreate: undefined,
    git: { ...deps.git, enabled: false, remote: undefined },
    drift: undefined,
  };
}

/** The site-state field a rehearsal's end sets (its link from GET /v1/sites/:site); nothing else of the site changes. */
export function rehearsalLink(
  rec: Pick<OperationRecord, "id" | "site" | "kind">,
  status: OperationStatus,
  finishedAt: string,
): NonNullable<TransitionOptions["site"]> {
  return {
    site: rec.site,
    set: { lastRehearsal: { operationId: rec.id, kind: rec.kind, status, finishedAt } },
  };
}
