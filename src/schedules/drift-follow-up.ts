import type { ChatMessage } from "../chatops/reply-poster";
import { driftedUrns, driftLines, type DriftReport } from "../operations/drift-report";
import { DRIFT_PRINCIPAL, type SiteDriftSettings } from "../operations/drift-settings";
import { addOperationObserver, type FinishedOperation } from "../operations/finish-observers";
import type { Ledger } from "../operations/ledger";
import { isTerminal } from "../operations/operation-record";
import type { OperationService } from "../operations/operation-service";
import type { Logger } from "../infra/observability/logger";

export interface DriftFollowUpDeps {
  ledger: Ledger;
  operations: OperationService;
  settings: (site: string) => SiteDriftSettings;
  /** Posts to a chat URL checked like reply URLs (src/chatops/reply-poster.ts). */
  post: (url: string, m: ChatMessage, context: Record<string, unknown>) => Promise<boolean>;
  logger: Logger;
}

/** The chat text of a finding: the site, how many resources, and each property with both values. */
export function driftChatText(r: DriftReport): string {
  const lines = driftLines(r);
  const what =
    r.remediation === "refreshed"
      ? "accepted into the state (remediate: refresh)"
      : r.remediation === "revert-requested"
        ? "a revert-drift operation waits for approval (remediate: revert)"
        : "reported only (remediate: false)";
  return `drift on ${r.site}: ${r.resources} resource(s) changed out of band: ${lines.join("; ")}. Found by ${r.operationId}; ${what}.`;
}

/**
 * What happens after a detection found drift, in the process whose worker ran it: the site's chat
 * webhook gets the finding, and with `remediate: revert` a revert-drift operation is requested as
 * the drift principal (it waits for an approver like any revert). One revert at a time per site:
 * while one is unfinished, later detections of the same drift ask for no other.
 */
export function installDriftFollowUp(deps: DriftFollowUpDeps): () => void {
  return addOperationObserver({
    finished: (op) => {
      if (op.kind !== "detect-drift" || op.status !== "succeeded" || op.coalescedInto) return;
      void followUp(deps, op).catch((err) =>
        deps.logger.warn("drift follow-up failed", { operationId: op.id, stack: op.site, err }),
      );
    },
  });
}

async function followUp(deps: DriftFollowUpDeps, op: FinishedOperation): Promise<void> {
  const report = (await deps.ledger.get(op.id))?.drift;
  if (!report || report.resources === 0) return;
  const settings = deps.settings(op.site);
  if (settings.chatUrl)
    await deps.post(
      settings.chatUrl,
      { text: driftChatText(report), response_type: "in_channel" },
      { operationId: op.id, stack: op.site, via: "drift" },
    );
  // A resource deleted out of band is not in a revert's reach (its up plans no create without a refresh): reported only.
  const urns = driftedUrns({ ...report, deleted: [] });
  if (report.remediation !== "revert-requested" || urns.length === 0) return;
  const open = (await deps.ledger.listForSite(op.site, 100)).find(
    (r) => r.kind === "revert-drift" && !isTerminal(r.status),
  );
  if (open) return;
  const { record } = await deps.operations.submit({
    site: op.site,
    request: { operation: "revert-drift", params: { resources: urns } },
    tokenId: DRIFT_PRINCIPAL,
    via: `drift:${op.id}`,
  });
  deps.logger.info("revert-drift requested", { stack: op.site, operationId: record.id, detection: op.id });
}
