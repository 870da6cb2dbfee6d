import { createHash } from "node:crypto";
import {
  ApprovalExpiredError,
  GuardRefusedError,
  IdempotencyMismatchError,
  NotAwaitingApprovalError,
  NotFoundError,
  NotReplicatedError,
  OperationFinishedError,
  SelfApprovalError,
} from "../errors";
import type { SiteConfig } from "../programs/site-config";
import { notifyRefused } from "./finish-observers";
import { approvalNeed } from "./approval-policy";
import { guardEnvironment, type GuardEnvironment } from "./guards/evaluate-guards";
import { newOperationId } from "./ids";
import { operationNotFound } from "./operation-access";
import type { Ledger, SiteState } from "./ledger";
import { failureFields, isTerminal, type OperationRecord } from "./operation-record";
import { planAndGuard } from "./planner";
import type { OperationRequest } from "./registry";
import type { StackFileStore } from "./stack-file-store";

/** The queue as the domain needs it; BullMQ lives behind this in src/workers/. */
export interface OperationQueue {
  /** `phase: "approved"` queues the second run of an approved operation (a new job for the same operation). */
  enqueue(site: string, operationId: string, kind: string, phase?: "approved"): Promise<void>;
  /** Removes a job that has not started; false when a worker already holds it. */
  removeQueued(site: string, operationId: string): Promise<boolean>;
  /** Tells whichever worker runs the operation to stop at the engine's next safe point. */
  signalCancel(operationId: string): Promise<void>;
}

/**
 * Confirms that the writes this process completed so far are on enough Redis replicas to survive a
 * failover (Redis WAIT; src/infra/replica-wait.ts).
 */
export interface ReplicationCheck {
  confirm(): Promise<{ acked: number; wanted: number; timeoutMs: number }>;
}

/**
 * Collapses requests that only restate a wanted value (scale-sidekiq on one stack+pool) into the one
 * still queued; see src/schedules/scale-coalescer.ts.
 */
export interface Coalescer {
  /** The collapse key of this request, or undefined when it must run on its own. */
  keyFor(config: SiteConfig, request: OperationRequest): string | undefined;
}

export interface OperationServiceDeps {
  ledger: Ledger;
  queue: OperationQueue;
  stackFiles: StackFileStore;
  /** Sites this deployment serves (stack files present). */
  sites: readonly string[];
  idempotencyTtlSeconds: number;
  coalescer?: Coalescer;
  /** Guard settings, clock and history (defaults: built-in settings, the system clock, the ledger's run index). */
  guards?: GuardEnvironment;
  /** How long an operation waits for approval before it expires (STACKYARD_APPROVAL_TTL_MS). */
  approvalTtlMs?: number;
  /** When set, a record must reach the replicas before its job is queued (STACKYARD_REDIS_WAIT_REPLICAS). @defaultValue none: 202 once the primary has it */
  replication?: ReplicationCheck;
}

export interface SubmitInput {
  site: string;
  request: OperationRequest;
  /** Who asks: the principal approval refuses as approver (for a schedule, its creator). */
  tokenId: string;
  /** Where the request came from when not straight from that principal (`schedule:<id>`). */
  via?: string;
  idempotencyKey?: string;
}

/** Accepts, inspects and cancels operations. Knows nothing of HTTP or of BullMQ. */
export class OperationService {
  private readonly guards: GuardEnvironment;

  constructor(private readonly deps: OperationServiceDeps) {
    this.guards =
      deps.guards ??
      guardEnvironment({ runsSince: (site, since, exclude) => deps.ledger.runsSince(site, since, exclude) });
  }

  /** The stack files this service plans on (the site overview reads the same ones). */
  get stackFiles(): StackFileStore {
    return this.deps.stackFiles;
  }

  get approvalTtlMs(): number {
    return this.deps.approvalTtlMs ?? 3600_000;
  }

  requireSite(site: string): void {
    if (!this.deps.sites.includes(site)) {
      throw new NotFoundError("SITE_NOT_FOUND", `no site "${site}" (sites: ${this.deps.sites.join(", ")})`, {
        field: "site",
        site,
      });
    }
  }

  /**
   * Plans against the current stack file (so an unsupported operation or a refused guard answers
   * at once and enqueues nothing), then records and enqueues. The worker plans again at run time.
   */
  async submit(input: SubmitInput): Promise<{ record: OperationRecord; created: boolean }> {
    this.requireSite(input.site);
    const config = this.deps.stackFiles.load(input.site);
    const { plan, approval } = await this.planAndGuard(config, input);
    const rehearsal = input.request.rehearse === true;
    // Replicas that are not following now refuse the request before anything is written (a ride
    // would already have changed the operation it rides on).
    await this.confirmReplicated();
    const id = newOperationId();
    const idem = await this.claimIdempotency(input, id);
    if (idem.first) return { record: idem.first, created: false };
    const record: OperationRecord = {
      id,
      site: input.site,
      kind: input.request.operation,
      params: input.request.params as Record<string, unknown>,
      status: "queued",
      requester: { tokenId: input.tokenId, ...(input.via ? { via: input.via } : {}) },
      idempotencyKey: input.idempotencyKey,
      createdAt: new Date().toISOString(),
      attempts: 0,
      plan: { summary: plan.summary, changes: plan.changes, noop: plan.noop },
      recovery: [],
      timings: {},
      // A rehearsal changes nothing live: nobody approves it (its record notes that the real run would wait).
      ...(approval && !rehearsal ? { approval } : {}),
      ...(rehearsal ? { rehearsal: true } : {}),
    };
    return { record: await this.writeAndQueue(config, input, record, idem.keyHash), created: true };
  }

  /** Layer 2 (DESIGN.md §2): the operation guards on the planned config answer at once (422) and enqueue nothing. */
  private async planAndGuard(config: SiteConfig, input: SubmitInput) {
    try {
      const settings = this.guards.settings(config.site);
      const ctx = {
        settings,
        now: this.guards.now(),
        runsLastHour: await this.guards.runsLastHour(input.site),
      };
      const { plan } = planAndGuard(
        config,
        input.request.operation,
        input.request.params as Record<string, unknown>,
        ctx,
      );
      return { plan, approval: approvalNeed(config, plan, settings) };
    } catch (err) {
      if (err instanceof GuardRefusedError)
        notifyRefused({ site: input.site, kind: input.request.operation, rule: err.rule, stage: "submit" });
      throw err;
    }
  }

  /**
   * Claims the caller's Idempotency-Key for `id`. A key already used for the same request returns
   * that first operation; for a different request it is refused. Keys are per caller; a schedule's
   * firings have a namespace of their own.
   */
  private async claimIdempotency(
    input: SubmitInput,
    id: string,
  ): Promise<{ keyHash?: string; first?: OperationRecord }> {
    if (input.idempotencyKey === undefined) return {};
    const keyHash = sha256(input.idempotencyKey);
    const requestHash = sha256(JSON.stringify({ site: input.site, ...input.request }));
    const claim = await this.deps.ledger.claimIdempotencyKey(
      input.via ?? input.tokenId,
      keyHash,
      { operationId: id, requestHash },
      this.deps.idempotencyTtlSeconds,
    );
    if (claim.claimed) return { keyHash };
    if (claim.requestHash !== requestHash)
      throw new IdempotencyMismatchError(input.idempotencyKey, claim.operationId);
    return { first: await this.waitForRecord(claim.operationId) };
  }

  /**
   * Writes the record and queues its job, or lets it ride on a queued operation (the coalescer).
   * If the store refuses either, the key is released and the record, if written, ends failed.
   *
   * With a replication check, the record must reach the replicas before the job is queued: the
   * record is what makes the operation durable (a record whose job a failover lost is resumed by
   * the workers' sweep, src/workers/lost-operations.ts), and a record the replicas did not confirm
   * ends failed with nothing queued, so a 503 never leaves a job running on the primary. (A ride
   * refused here has already set its carrier's wanted value: the same value a retry would set.)
   */
  private async writeAndQueue(
    config: SiteConfig,
    input: SubmitInput,
    record: OperationRecord,
    idemKeyHash: string | undefined,
  ): Promise<OperationRecord> {
    try {
      // A rehearsal never rides on a live request, nor a live one on it.
      const key = record.rehearsal ? undefined : this.deps.coalescer?.keyFor(config, input.request);
      const carrier = key
        ? await this.deps.ledger.createOrRide(key, record)
        : (await this.deps.ledger.create(record), undefined);
      await this.confirmReplicated(record.id);
      if (carrier) return { ...record, coalescedInto: carrier };
      await this.deps.queue.enqueue(input.site, record.id, record.kind);
      return record;
    } catch (err) {
      // The failure first, then the key: the replication stream keeps this order, so a replica that
      // has the key freed also has the record failed (a retry with the key never runs it twice).
      await this.deps.ledger
        .transition(
          record.id,
          ["queued"],
          "failed",
          {
            reason:
              err instanceof NotReplicatedError
                ? "not accepted: the Redis replicas did not confirm it in time"
                : "not enqueued: the queue store refused it",
          },
          { by: "submit" },
        )
        .catch(() => undefined);
      if (idemKeyHash)
        await this.deps.ledger
          .releaseIdempotencyKey(input.via ?? input.tokenId, idemKeyHash)
          .catch(() => undefined);
      throw err;
    }
  }

  private async confirmReplicated(operationId?: string): Promise<void> {
    if (!this.deps.replication) return;
    const ack = await this.deps.replication.confirm();
    if (ack.acked < ack.wanted) throw new NotReplicatedError(operationId, ack);
  }

  /** The stored record as it is, with no side effect (an overdue approval is not expired here). */
  async find(id: string): Promise<OperationRecord | undefined> {
    return this.deps.ledger.get(id);
  }

  async get(id: string): Promise<OperationRecord> {
    const rec = await this.deps.ledger.get(id);
    if (!rec) throw operationNotFound(id);
    // An approval window that closed ends the operation even before the sweeper gets to it.
    if (rec.status === "awaiting-approval" && this.approvalExpired(rec))
      return (await this.expire(rec)) ?? rec;
    return rec;
  }

  /**
   * Releases an operation waiting for approval: another principal than the requester, before the
   * window closes. The up phase is a new job on the stack's queue (it previews again first).
   */
  async approve(id: string, tokenId: string): Promise<OperationRecord> {
    const rec = await this.get(id);
    if (rec.status === "expired") throw new ApprovalExpiredError(id, rec.approval?.expiresAt ?? "unknown");
    if (rec.status !== "awaiting-approval") throw new NotAwaitingApprovalError(id, rec.status);
    if (rec.requester.tokenId === tokenId) throw new SelfApprovalError(id, tokenId);
    const approval = { ...rec.approval!, approvedBy: tokenId, approvedAt: this.guards.now().toISOString() };
    if (
      !(await this.deps.ledger.transition(
        id,
        ["awaiting-approval"],
        "queued",
        { approval },
        { by: "approval" },
      ))
    ) {
      const now = await this.get(id);
      if (now.status === "expired") throw new ApprovalExpiredError(id, rec.approval?.expiresAt ?? "unknown");
      throw new NotAwaitingApprovalError(id, now.status);
    }
    await this.deps.ledger.removeAwaiting(id);
    await this.deps.ledger.event(id, "approved", { by: tokenId });
    await this.deps.queue.enqueue(rec.site, id, rec.kind, "approved");
    return this.get(id);
  }

  /**
   * Turns down an operation waiting for approval: it ends `cancelled` with `failure.code`
   * APPROVAL_REJECTED and nothing is applied. Any principal who may approve may reject, the
   * requester included: rejecting releases nothing (the requester could cancel it anyway), so the
   * four-eyes rule has nothing to guard here.
   */
  async reject(id: string, tokenId: string): Promise<OperationRecord> {
    const rec = await this.get(id);
    if (rec.status === "expired") throw new ApprovalExpiredError(id, rec.approval?.expiresAt ?? "unknown");
    if (rec.status !== "awaiting-approval") throw new NotAwaitingApprovalError(id, rec.status);
    const at = this.guards.now().toISOString();
    const approval = { ...rec.approval!, rejectedBy: tokenId, rejectedAt: at };
    const failure = failureFields("APPROVAL_REJECTED", `rejected by ${tokenId}`);
    if (
      !(await this.deps.ledger.transition(
        id,
        ["awaiting-approval"],
        "cancelled",
        { approval, ...failure, finishedAt: at },
        { by: "rejection" },
      ))
    ) {
      const now = await this.get(id);
      if (now.status === "expired") throw new ApprovalExpiredError(id, rec.approval?.expiresAt ?? "unknown");
      throw new NotAwaitingApprovalError(id, now.status);
    }
    await this.deps.ledger.removeAwaiting(id);
    await this.deps.ledger.event(id, "rejected", { by: tokenId });
    return this.get(id);
  }

  /** Ends every operation whose approval window closed (the service runs this periodically). */
  async expireDue(): Promise<number> {
    let n = 0;
    for (const id of await this.deps.ledger.dueAwaiting(this.guards.now().getTime())) {
      const rec = await this.deps.ledger.get(id);
      if (rec?.status === "awaiting-approval" && this.approvalExpired(rec) && (await this.expire(rec))) n++;
      else if (!rec || rec.status !== "awaiting-approval") await this.deps.ledger.removeAwaiting(id);
    }
    return n;
  }

  private approvalExpired(rec: OperationRecord): boolean {
    return (
      rec.approval?.expiresAt !== undefined &&
      Date.parse(rec.approval.expiresAt) <= this.guards.now().getTime()
    );
  }

  private async expire(rec: OperationRecord): Promise<OperationRecord | undefined> {
    const failure = failureFields("APPROVAL_EXPIRED", `nobody approved it by ${rec.approval?.expiresAt}`);
    const ok = await this.deps.ledger.transition(
      rec.id,
      ["awaiting-approval"],
      "expired",
      { ...failure, finishedAt: this.guards.now().toISOString() },
      { by: "expiry" },
    );
    await this.deps.ledger.removeAwaiting(rec.id);
    return ok ? this.deps.ledger.get(rec.id) : undefined;
  }

  /** A queued operation is removed from its queue; a running one stops at the engine's next safe point. */
  async cancel(id: string, tokenId: string): Promise<OperationRecord> {
    const rec = await this.get(id);
    if (isTerminal(rec.status)) throw new OperationFinishedError(id, rec.status);
    if (rec.status === "awaiting-approval") {
      const reason = `cancelled by ${tokenId} while awaiting approval`;
      if (
        await this.deps.ledger.transition(
          id,
          ["awaiting-approval"],
          "cancelled",
          { reason, finishedAt: new Date().toISOString() },
          { by: "cancel" },
        )
      ) {
        await this.deps.ledger.removeAwaiting(id);
        return this.get(id);
      }
    }
    if (rec.status === "queued" && (await this.deps.queue.removeQueued(rec.site, id))) {
      const reason = `cancelled by ${tokenId} before it started`;
      const finishedAt = new Date().toISOString();
      if (
        await this.deps.ledger.transition(
          id,
          ["queued"],
          "cancelled",
          { reason, finishedAt },
          { by: "cancel" },
        )
      )
        return this.get(id);
    }
    await this.deps.ledger.patch(id, { cancelRequested: true });
    await this.deps.ledger.event(id, "cancel-requested", { by: tokenId });
    await this.deps.queue.signalCancel(id);
    return this.get(id);
  }

  async site(
    site: string,
  ): Promise<{ site: string; configRevision: number; deployed: SiteState; stackFile: string }> {
    this.requireSite(site);
    const config = this.deps.stackFiles.load(site);
    const state = await this.deps.ledger.siteState(site);
    const { pendingWrite: _omit, ...deployed } = state;
    return { site, configRevision: config.configRevision, deployed, stackFile: `stacks/Pulumi.${site}.yaml` };
  }

  async history(site: string, limit: number): Promise<OperationRecord[]> {
    this.requireSite(site);
    return this.deps.ledger.listForSite(site, limit);
  }

  /** Two concurrent requests with one key: the loser may look before the winner's record is written. */
  private async waitForRecord(id: string): Promise<OperationRecord> {
    for (let i = 0; i < 50; i++) {
      const rec = await this.deps.ledger.get(id);
      if (rec) return rec;
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.get(id);
  }
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
