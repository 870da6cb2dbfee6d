import { driftLines } from "../operations/drift-report";
import type { Ledger, LedgerEvent } from "../operations/ledger";
import { isTerminal, type OperationRecord, type OperationStatus } from "../operations/operation-record";
import type { Logger } from "../infra/observability/logger";
import type { ChatMessage } from "./reply-poster";
import { approvalBlocks } from "./slack-blocks";

export interface OutcomeWatcherOptions {
  pollMs?: number;
  /** Slack's response_url takes posts for 30 minutes; following longer is pointless. */
  maxFollowMs?: number;
}

/** One follow's own limits. */
export interface FollowOptions {
  /** @defaultValue the watcher's maxFollowMs (a bot token can post after response_url expired) */
  maxFollowMs?: number;
  /** Post only the result (a follow started after the preview and the approval request were posted). @defaultValue false */
  resultOnly?: boolean;
}

/**
 * Follows one operation in the ledger and tells the chat what happened: the preview summary once
 * the checks ran, then the result. Polls the event stream (no blocking read, so a thousand followed
 * operations cost no extra Redis connections). In-process: an API process that dies stops posting;
 * the operation itself is unaffected and its history says how it ended.
 */
export class OutcomeWatcher {
  private readonly pollMs: number;
  private readonly maxFollowMs: number;
  private stopped = false;

  constructor(
    private readonly ledger: Ledger,
    private readonly logger: Logger,
    opts: OutcomeWatcherOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 500;
    this.maxFollowMs = opts.maxFollowMs ?? 30 * 60_000;
  }

  follow(operationId: string, post: (m: ChatMessage) => Promise<unknown>, opts: FollowOptions = {}): void {
    void this.run(operationId, post, opts.maxFollowMs ?? this.maxFollowMs, opts.resultOnly ?? false).catch(
      (err) => this.logger.warn("chat follow stopped", { operationId, err }),
    );
  }

  stop(): void {
    this.stopped = true;
  }

  private async run(
    operationId: string,
    post: (m: ChatMessage) => Promise<unknown>,
    maxFollowMs: number,
    resultOnly: boolean,
  ): Promise<void> {
    const until = Date.now() + maxFollowMs;
    let cursor = "0";
    let failures = 0;
    while (!this.stopped && Date.now() < until) {
      let events: LedgerEvent[];
      try {
        events = await this.ledger.readEvents(operationId, cursor, 0);
        failures = 0;
      } catch {
        if (++failures > 20) return; // Redis gone for ~10 s: the service is stopping
        events = [];
      }
      for (const e of events) {
        cursor = e.id;
        if (e.type === "checks" && !resultOnly) {
          const rec = await this.ledger.get(operationId);
          if (rec)
            await post({ response_type: "ephemeral", replace_original: false, text: previewText(rec) });
        }
        if (e.type === "status" && e.data.status === "awaiting-approval" && !resultOnly) {
          const rec = await this.ledger.get(operationId);
          if (rec) {
            const text = approvalRequestText(rec);
            await post({
              response_type: "in_channel",
              replace_original: false,
              text,
              blocks: approvalBlocks(rec.id, text),
            });
          }
        }
        if (e.type === "status" && isTerminal(e.data.status as OperationStatus)) {
          const rec = await this.ledger.get(operationId);
          if (rec)
            await post({ response_type: "in_channel", replace_original: false, text: resultText(rec) });
          return;
        }
      }
      await new Promise((r) => setTimeout(r, this.pollMs).unref());
    }
  }
}

/** Asks the channel for a second person: who asked, why it needs approval, and until when. */
export function approvalRequestText(rec: OperationRecord): string {
  const why = rec.approval?.reasons?.length ? ` (${rec.approval.reasons.join("; ")})` : "";
  const until = rec.approval?.expiresAt ? ` before ${rec.approval.expiresAt}` : "";
  return `approval needed for ${rec.id} on ${rec.site}: ${rec.plan?.summary ?? rec.kind}${why}, requested by ${rec.requester.tokenId}. Another approver: \`approve ${rec.id}\`${until}`;
}

export function previewText(rec: OperationRecord): string {
  const changes = Object.entries(rec.preview?.changes ?? {})
    .filter(([op]) => op !== "same")
    .map(([op, n]) => `${op} ${n}`)
    .join(", ");
  const failed = (rec.checks ?? []).filter((c) => !c.ok);
  const checks =
    failed.length === 0
      ? "checks passed"
      : `refused by ${failed.map((c) => `${c.rule} (${c.message})`).join("; ")}`;
  return `preview of ${rec.id} on ${rec.site}: ${changes || "no changes"}; ${checks}`;
}

export function resultText(rec: OperationRecord): string {
  const head = `${rec.id} ${rec.status}: ${rec.plan?.summary ?? rec.kind}`;
  const carried = rec.coalescedInto ? ` (carried by ${rec.coalescedInto})` : "";
  const rev =
    rec.revision?.to !== undefined && rec.status === "succeeded"
      ? `, config revision ${rec.revision.to}`
      : "";
  const why = rec.status !== "succeeded" && rec.reason ? ` — ${rec.reason.slice(0, 300)}` : "";
  // A detection's answer is its report: what drifted, or that nothing did.
  const drift = rec.drift
    ? rec.drift.resources === 0
      ? "; no drift"
      : `; ${rec.drift.resources} resource(s) drifted: ${driftLines(rec.drift).join("; ").slice(0, 1500)}`
    : "";
  return `${head}${carried}${rev}${why}${drift}`;
}
