import type { UpdateOutcome } from "../engine/stack-session";
import { StackSession } from "../engine/stack-session";
import { releaseForDeletion } from "../engine/release-for-deletion";
import { repairTruncatedSidecars } from "../engine/blob-sidecars";
import { recoverStack } from "../engine/recovery";
import { stateBackend } from "../engine/engine-env";
import type { HeldStackLock } from "../coordination/stack-lock";
import { assertRevisionNotStale, deployedRevisionFromState } from "../programs/revision-guard";
import type { SiteConfig } from "../programs/site-config";
import { BlastRadiusError, GuardRefusedError, PolicyViolationError } from "../errors";
import { approvalNeed } from "../operations/approval-policy";
import { outsideBlastRadius } from "../operations/blast-radius";
import { refusalError } from "../operations/guards/evaluate-guards";
import { evaluateLiveChecks } from "../operations/guards/live-checks";
import { commitStackFile } from "../operations/git-commit";
import {
  publishAppliedStackFile,
  pullStackFile,
  type PublishOutcome,
  type PulledStackFile,
} from "./stack-file-remote";
import { pass, refuse, refusalsOf, type Refusal, type Verdict } from "../operations/verdict";
import type { TransitionResult } from "../operations/ledger";
import {
  failureFields,
  type OperationRecord,
  type OperationStatus,
  type RecoveryStep,
  type StackFileSettlement,
} from "../operations/operation-record";
import {
  awaitHosts,
  expectedHosts,
  unconvergedSummary,
  type HostConvergence,
} from "../operations/host-convergence";
import { FAILOVER_MAX_LAG_SECONDS } from "../operations/limits";
import { planAndGuard } from "../operations/planner";
import { OPERATIONS, type OperationKind } from "../operations/registry";
import type { OperationPlan } from "../operations/types";
import { packConfigFor } from "../policy/policy-settings";
import type { Logger } from "../infra/observability/logger";
import { redactOutputs } from "../infra/observability/redact";
import { blastRefusal, driftNote, duringUpRefusal } from "./blast-radius-refusals";
import { detectDrift } from "./drift-run";
import type { DriftReport } from "../operations/drift-report";
import { DEFAULT_DRIFT_SETTINGS } from "../operations/drift-settings";
import { BlastRadiusWatch } from "./blast-radius-watch";
import { EngineEventRecorder } from "./engine-events";
import { failureReason } from "./failure-reason";
import { SHUTDOWN_REASON, type RunnerDeps, type RunOutcome } from "./runner-deps";
import { PolicyViolationCollector, writePolicyConfig } from "./policy-run";
import { previewDigest } from "./preview-digest";
import { settleStackFile } from "./stack-file-settlement";
import { onTwin, rehearsalLink, type RehearsalTwin } from "./rehearsal-deps";

/** The named phases of a run, announced on the operation's event stream as they start. */
export type RunPhase =
  "recover" | "detect" | "plan" | "preview" | "check" | "approval" | "up" | "verify" | "record";

class Cancelled extends Error {}

/** A signal that follows `signal` only when it aborts for a worker shutdown. */
function onlyShutdown(signal: AbortSignal | undefined): AbortSignal {
  const c = new AbortController();
  const follow = () => {
    if (signal?.reason === SHUTDOWN_REASON) c.abort(SHUTDOWN_REASON);
  };
  if (signal?.aborted) follow();
  else signal?.addEventListener("abort", follow, { once: true });
  return c.signal;
}

/** This run no longer owns the operation (its stack lock was lost, or a newer run claimed it): stop, change nothing. */
class Superseded extends Error {}

interface Planned {
  plan: OperationPlan<OperationKind>;
  from: number;
  to: number;
  config: ReturnType<RunnerDeps["stackFiles"]["load"]>;
  settings: ReturnType<RunnerDeps["guards"]["settings"]>;
}

/**
 * One run of one operation, holding the stack lock: claim → recover → plan → write → preview →
 * check → await approval | apply → record. Each phase is a method; a failure anywhere goes to
 * `fail`, which settles the stack file against what the engine deployed. Before every engine step
 * and every write the run proves it still owns the stack (lock and fence), so a run BullMQ started
 * twice, or one that lost its lock while its event loop was blocked, stops before `up`.
 */
export class OperationRun {
  private rec!: OperationRecord;
  private readonly log: Logger;
  private readonly t0 = Date.now();
  private readonly fence: number;
  private recovery: RecoveryStep[] = [];
  private timings: OperationRecord["timings"] = {};
  private session?: StackSession;
  private wroteFile = false;
  private upRecorder?: EngineEventRecorder;
  /** Hashes of what each preview step would set (see preview-digest.ts). */
  private previewValues: string[] = [];
  /** The remote's stack file this run planned on (STACKYARD_GIT_REMOTE). */
  private pulled?: PulledStackFile;
  private policyConfig?: { file: string; remove: () => void };
  /** A rehearsal's sandbox copy of the site; while it exists, `deps` are the twin's (rehearsal-deps.ts). */
  private twin?: RehearsalTwin;

  constructor(
    private deps: RunnerDeps,
    private readonly operationId: string,
    site: string,
    private readonly lock: HeldStackLock,
    private readonly signal?: AbortSignal,
  ) {
    this.log = deps.logger.child({ operationId, stack: site });
    this.fence = lock.holder.fence;
  }

  async run(): Promise<RunOutcome> {
    const claimed = await this.claim();
    if (claimed) return claimed;
    try {
      if (this.rec.rehearsal) await this.enterTwin();
      await this.recover();
      if (OPERATIONS[this.rec.kind].run === "drift") return await this.detect();
      const planned = await this.planAndWrite();
      const steps = await this.preview(planned);
      await this.check(planned, steps);
      const waiting = await this.awaitApproval(planned, steps);
      if (waiting) return waiting;
      const result = await this.apply(planned);
      const hosts = await this.verifyHosts(planned);
      return await this.record(planned, result, hosts);
    } catch (err) {
      return await this.fail(err);
    } finally {
      this.policyConfig?.remove();
      this.twin?.remove();
    }
  }

  /** A rehearsal runs every later phase on a sandbox twin of the site: its engine, stack file, cloud and hosts. */
  private async enterTwin(): Promise<void> {
    const build = this.deps.rehearsal?.twin;
    if (!build) throw new Error("rehearsals are not set up in this service (no twin builder)");
    await this.assertOwner();
    this.twin = await build(this.rec.site, this.operationId);
    this.deps = onTwin(this.deps, this.twin);
    await this.deps.ledger.event(this.operationId, "rehearsal-twin", {
      seededResources: this.twin.seeded,
      note: "the live state was exported and imported into a sandbox backend; simulated providers only",
    });
    this.log.info("rehearsal twin ready", { seededResources: this.twin.seeded });
  }

  /** Re-reads the record under the stack lock and claims it with this run's fence; an outcome when there is nothing to run. */
  private async claim(): Promise<RunOutcome | undefined> {
    const { ledger } = this.deps;
    const rec = await ledger.get(this.operationId);
    if (!rec) return { status: "failed", reason: `no ledger record for ${this.operationId}` };
    if (rec.status !== "queued" && rec.status !== "running") {
      // A second run of a job whose first run already ended the operation (BullMQ is at-least-once).
      this.log.warn("the operation ended while this run waited for the stack; nothing to do", {
        status: rec.status,
      });
      return { status: rec.status, reason: rec.reason, alreadyFinished: true };
    }
    this.rec = rec;
    this.recovery = [...rec.recovery];
    this.timings = { ...rec.timings, queuedMs: rec.timings.queuedMs ?? this.t0 - Date.parse(rec.createdAt) };
    const attempts = rec.attempts + 1;
    const r = await ledger.claimRun(this.operationId, this.fence, {
      startedAt: rec.startedAt ?? new Date(this.t0).toISOString(),
      attempts,
      timings: this.timings,
    });
    if (r !== "done") return this.stopped(r);
    this.log.info("run claimed", { attempt: attempts, fence: this.fence });
    // Coalesced scale requests may change the wanted value until the claim: read the params after it.
    this.rec = (await ledger.get(this.operationId)) ?? rec;
    if (attempts > 1)
      await ledger.event(this.operationId, "retry", {
        attempt: attempts,
        note: "a previous worker stopped mid-operation",
      });
    return undefined;
  }

  /** Engine locks and pending operations a dead worker left, and a stack file another failed operation left behind. */
  private async recover(): Promise<void> {
    const { deps, rec } = this;
    await this.phase("recover");
    await this.checkCancel();
    // A CLI killed mid-write can leave the file backend's sidecar truncated, which fails every command.
    const engine = deps.engine(rec.site);
    const backend = stateBackend(engine);
    // Only the file backend keeps sidecars; an S3 store writes each object whole.
    const repaired =
      backend.kind === "file" ? repairTruncatedSidecars(backend.dir, deps.projectName, rec.site) : [];
    for (const file of repaired) {
      await this.recordStep(
        "engine-state-sidecar-repaired",
        `removed the truncated ${file} a killed engine left (the file backend works without it)`,
      );
    }
    this.session = await StackSession.open(
      {
        projectName: deps.projectName,
        stackName: rec.site,
        workDir: deps.stackFiles.workspaceDir,
        program: deps.program(),
      },
      deps.engine(rec.site),
    );
    const tr = Date.now();
    await recoverStack({
      session: this.session,
      backend,
      projectName: deps.projectName,
      stackName: rec.site,
      liveLockWaitMs: deps.liveEngineLockWaitMs,
      foreignLockStaleMs: deps.foreignEngineLockStaleMs,
      inspectPendingCreate: deps.inspectPendingCreate && ((urn) => deps.inspectPendingCreate!(rec.site, urn)),
      record: (step, detail) => this.recordStep(step, detail),
    });
    // A rehearsal's twin has no other operation's change in it: the live site's is not its business.
    const pending = rec.rehearsal ? undefined : (await deps.ledger.siteState(rec.site)).pendingWrite;
    if (pending && pending.operationId !== this.operationId) {
      const other = await deps.ledger.get(pending.operationId);
      // An operation handed back by a stopping worker still wants its change: it stays in the file
      // and this operation plans on top of it. Only a change whose operation ended without success is settled.
      if (!other || ["failed", "cancelled", "expired"].includes(other.status)) {
        await this.assertOwner();
        const s = await settleStackFile(deps, {
          site: rec.site,
          operationId: pending.operationId,
          deployedRevision: await this.deployedRevision(),
          applied: [],
          why: `${pending.operationId} ${other?.status ?? "unknown"}`,
        });
        await this.recordSettlement(
          s,
          `left modified by ${pending.operationId} (${other?.status ?? "unknown"})`,
        );
      }
    }
    this.timings.recoveryMs = Date.now() - tr;
  }

  /**
   * A drift detection (definition `run: "drift"`): the refresh preview and its report
   * (drift-run.ts), kept as the site's latest and on the record. No plan, no stack-file write, no up.
   */
  private async detect(): Promise<RunOutcome> {
    const { deps, rec, operationId } = this;
    await this.assertOwner();
    await this.phase("detect");
    const t = Date.now();
    const report = await detectDrift({
      session: this.session!,
      site: rec.site,
      operationId,
      settings: deps.drift?.settings(rec.site) ?? DEFAULT_DRIFT_SETTINGS,
      secrets: deps.secrets,
      signal: this.signal,
      recorder: new EngineEventRecorder(deps.ledger, operationId, "refresh", deps.secrets),
      beforeWrite: () => this.assertOwner(),
    });
    this.timings.previewMs = Date.now() - t;
    await deps.ledger.event(operationId, "drift", {
      resources: report.resources,
      drifted: report.drifted.length,
      deleted: report.deleted.length,
      remediation: report.remediation,
    });
    await this.assertOwner();
    await deps.drift?.reports.record(report);
    this.timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    const r = await deps.ledger.move(
      operationId,
      ["running"],
      "succeeded",
      { drift: report, finishedAt: new Date().toISOString(), timings: this.timings },
      { fence: this.fence },
    );
    if (r !== "done") return this.stopped(r);
    this.log.info("drift detection done", { resources: report.resources, remediation: report.remediation });
    return { status: "succeeded" };
  }

  /** The site's latest drift report, to explain preview steps the operation did not ask for. */
  private async latestDrift(): Promise<DriftReport | undefined> {
    return this.deps.drift?.reports.latest(this.rec.site).catch(() => undefined);
  }

  /** Plans on the stack file as it is now (earlier operations may have changed it since submission), then writes it. */
  private async planAndWrite(): Promise<Planned> {
    const { deps, rec, operationId } = this;
    const { ledger } = deps;
    await this.phase("plan");
    const site = await ledger.siteState(rec.site);
    const ours =
      !rec.rehearsal && site.pendingWrite?.operationId === operationId ? site.pendingWrite : undefined;
    if (deps.git.remote) {
      // The remote branch is the desired state every machine shares: plan on its latest copy.
      this.pulled = await pullStackFile(deps.stackFiles, deps.git.remote, rec.site, !ours);
      if (this.pulled.took)
        await ledger.event(operationId, "git-pulled", {
          commit: this.pulled.tip,
          revision: this.pulled.took.revision,
        });
    }
    const config = deps.stackFiles.load(rec.site);
    const deployed = await this.deployedRevision();
    if (!ours) assertRevisionNotStale(rec.site, config.configRevision, deployed);
    // Layer 2: the operation guards again, on the config and history as they are now.
    const settings = deps.guards.settings(config.site);
    let plan: OperationPlan<OperationKind>;
    try {
      const guarded = planAndGuard(config, rec.kind, rec.params, {
        settings,
        now: deps.guards.now(),
        runsLastHour: await deps.guards.runsLastHour(rec.site, operationId),
      });
      plan = guarded.plan;
      const notes = guarded.outcomes.filter((o) => o.ok && o.note).map((o) => `${o.rule}: ${o.message}`);
      if (notes.length > 0) await ledger.patch(operationId, { guardNotes: notes });
    } catch (err) {
      if (err instanceof GuardRefusedError)
        await this.refuse([
          refuse({
            rule: err.rule,
            value: err.details.value,
            limit: err.details.limit,
            message: err.message,
          }),
        ]);
      throw err;
    }
    // A rehearsal changes nothing live, so it does not count towards the rate of operations.
    if (!rec.rehearsal) await ledger.recordRun(rec.site, operationId, Date.now());
    const to = ours ? ours.revision : Math.max(config.configRevision, deployed ?? 0) + 1;
    const from = ours ? ours.revision - 1 : config.configRevision;
    // A retry plans on its own change already in the file: keep the plan it was accepted with.
    if (!ours)
      await ledger.patch(operationId, {
        plan: { summary: plan.summary, changes: plan.changes, noop: plan.noop },
      });
    await ledger.patch(operationId, { revision: { from, to } });
    if (!ours) {
      await this.assertOwner();
      const previousText = deps.stackFiles.writeSpec(rec.site, plan.nextSpec, to);
      if (!rec.rehearsal)
        await ledger.setSiteState(rec.site, { pendingWrite: { operationId, previousText, revision: to } });
    }
    this.wroteFile = true;
    await this.checkCancel();
    return { plan, from, to, config, settings };
  }

  /** The engine's preview with the policy pack; the steps it announced. */
  private async preview(p: Planned): Promise<OperationRecord["preview"] & object> {
    const { deps, rec, operationId } = this;
    await this.assertOwner();
    await this.phase("preview");
    // A stateful resource the operation declares it deletes is released from the engine's protection first.
    const released = await releaseForDeletion(this.session!, p.plan.allowUnprotected ?? []);
    if (released.length > 0) await deps.ledger.event(operationId, "protection-released", { urns: released });

    const tp = Date.now();
    const pre = new EngineEventRecorder(deps.ledger, operationId, "preview", deps.secrets);
    // Layer 3: the resource policy pack on the engine's own steps, with the stateful names this operation declares.
    this.policyConfig =
      deps.policyPacks.length > 0
        ? writePolicyConfig(
            operationId,
            packConfigFor(p.config.site, deps.policyOverrides ?? {}, p.plan.allowUnprotected ?? []),
          )
        : undefined;
    const policy = new PolicyViolationCollector();
    const preview = await this.session!.preview({
      onEvent: (e) => (pre.onEvent(e), policy.onEvent(e)),
      signal: this.signal,
      ...this.policyOptions(),
    }).catch(async (err: unknown) => {
      await pre.flush();
      if (this.signal?.aborted) throw err;
      // The engine may stop the preview itself (a protected database it would replace): the steps it announced still say why.
      const outside = outsideBlastRadius(pre.steps, p.plan.touches);
      const drift = outside.length > 0 ? await this.latestDrift() : undefined;
      const refusals = [
        ...outside.map((o) => blastRefusal(rec.kind, o, p.plan.touches, drift)),
        ...policy.refusals,
      ];
      if (refusals.length > 0) await this.refuse(refusals);
      // The policy failed the run, so it is the reason; steps outside the declaration are recorded beside it.
      if (policy.refusals.length > 0) throw new PolicyViolationError(policy.refusals);
      if (outside.length > 0) throw new BlastRadiusError(rec.kind, outside, driftNote(outside, drift));
      throw err;
    });
    await pre.flush();
    this.previewValues = pre.stepValues;
    this.timings.previewMs = Date.now() - tp;
    return { changes: preview.changeSummary as Record<string, number>, steps: pre.steps };
  }

  /** Blast radius on the preview's steps, and the live facts (standby lag). */
  private async check(p: Planned, preview: OperationRecord["preview"] & object): Promise<void> {
    const { deps, rec, operationId } = this;
    await this.phase("check");
    const outside = outsideBlastRadius(preview.steps, p.plan.touches);
    const checks: Verdict[] = [
      outside.length === 0
        ? pass(
            "blast-radius",
            "every planned step is inside the operation's declared resources",
            "blast-radius",
          )
        : refuse({
            layer: "blast-radius",
            rule: "blast-radius",
            value: outside.length,
            limit: 0,
            message: `${outside.length} step(s) outside`,
          }),
      ...(await evaluateLiveChecks(rec.site, p.plan.liveChecks, deps.facts)),
    ];
    await deps.ledger.patch(operationId, { preview, checks, timings: this.timings });
    await deps.ledger.event(operationId, "checks", { checks });
    if (outside.length > 0) {
      const drift = await this.latestDrift();
      await this.refuse(outside.map((o) => blastRefusal(rec.kind, o, p.plan.touches, drift)));
      throw new BlastRadiusError(rec.kind, outside, driftNote(outside, drift));
    }
    const refused = refusalsOf(checks)[0];
    if (refused) {
      await this.refuse([refused]);
      throw refusalError(refused);
    }
    await this.checkCancel();
  }

  /** A risky operation stops here until another principal approves what this preview showed. */
  private async awaitApproval(
    p: Planned,
    preview: OperationRecord["preview"] & object,
  ): Promise<RunOutcome | undefined> {
    const { deps, rec, operationId } = this;
    const approval = rec.approval ?? approvalNeed(p.config, p.plan, p.settings);
    if (rec.rehearsal) {
      // Nothing live changes, so nobody need approve; the record says the real run would wait.
      if (approval)
        await deps.ledger.event(operationId, "rehearsal-approval", {
          wouldWait: true,
          reasons: approval.reasons,
        });
      return undefined;
    }
    // The approval binds the params and what each step would set, not only which steps there are.
    const digest = previewDigest({ steps: preview.steps, stepValues: this.previewValues }, rec.params);
    if (approval && !approval.approvedAt) {
      await this.phase("approval");
      const now = deps.guards.now();
      const expiresAt = new Date(now.getTime() + deps.approvalTtlMs).toISOString();
      // The stack file goes back to the deployed revision: nothing waits half-applied, other operations may run.
      await this.settle("waiting for approval");
      this.wroteFile = false;
      const waiting = {
        ...approval,
        requestedAt: now.toISOString(),
        expiresAt,
        previewDigest: digest,
        approvedSteps: [...this.previewValues],
        paramsDigest: previewDigest([], rec.params),
      };
      await deps.ledger.addAwaiting(operationId, Date.parse(expiresAt));
      const r = await deps.ledger.move(
        operationId,
        ["running"],
        "awaiting-approval",
        { approval: waiting, timings: this.timings },
        { fence: this.fence },
      );
      if (r !== "done") return this.stopped(r);
      this.log.info("operation awaiting approval", { reasons: approval.reasons, expiresAt });
      return { status: "awaiting-approval" };
    }
    if (
      approval?.approvedAt &&
      approval.previewDigest &&
      approval.previewDigest !== digest &&
      !this.onlyApprovedLeft(approval)
    ) {
      const message = `the preview changed since ${approval.approvedBy} approved it; submit the operation again`;
      const refusal = refuse({
        rule: "approved-preview-changed",
        value: digest,
        limit: approval.previewDigest,
        message,
      });
      await this.refuse([refusal]);
      throw refusalError(refusal);
    }
    return undefined;
  }

  /** After an apply, the stack file goes to the git remote; a push that fails leaves it for the next run's push. */
  private async publish(message: string): Promise<PublishOutcome | undefined> {
    const { deps, rec, operationId } = this;
    if (!deps.git.remote || !this.pulled) return undefined;
    try {
      const out = await publishAppliedStackFile(
        deps.stackFiles,
        deps.git.remote,
        rec.site,
        this.pulled,
        operationId,
        message,
        deps.git.author,
      );
      await deps.ledger.event(operationId, "git-pushed", out);
      return out;
    } catch (err) {
      this.log.error("git push failed; the update is applied and recorded, the next run pushes it", { err });
      await deps.ledger.event(operationId, "git-push-failed", {
        reason: failureReason(err, deps.secrets).reason,
      });
      return undefined;
    }
  }

  /**
   * A run that resumes an approved operation after a hand-back (its earlier run applied part or all
   * of the update) previews only what is left: every step still to do must be one the approver saw,
   * with the same values, and the params the approved ones. Nothing new can ride on the approval.
   */
  private onlyApprovedLeft(approval: NonNullable<OperationRecord["approval"]>): boolean {
    const seen = approval.approvedSteps;
    if (!seen || approval.paramsDigest !== previewDigest([], this.rec.params)) return false;
    return this.previewValues.every((h) => seen.includes(h));
  }

  /** The update, with the policy pack and the blast-radius watch (the first step outside the declaration aborts it). */
  private async apply(p: Planned): Promise<UpdateOutcome> {
    const { deps, operationId } = this;
    await this.assertOwner();
    await this.phase("up");
    const tu = Date.now();
    const up = (this.upRecorder = new EngineEventRecorder(deps.ledger, operationId, "up", deps.secrets));
    const watch = new BlastRadiusWatch(p.plan.touches);
    const policy = new PolicyViolationCollector();
    const signal = this.signal ? AbortSignal.any([this.signal, watch.signal]) : watch.signal;
    const result = await this.session!.up({
      onEvent: (e) => (up.onEvent(e), watch.onEvent(e), policy.onEvent(e)),
      signal,
      ...this.policyOptions(),
    }).catch(async (err: unknown) => {
      await up.flush();
      if (watch.tripped && !this.signal?.aborted) throw await this.blastRadiusStop(watch.tripped);
      if (policy.refusals.length > 0 && !this.signal?.aborted) {
        await this.refuse(policy.refusals);
        throw new PolicyViolationError(policy.refusals);
      }
      throw err;
    });
    await up.flush();
    // The abort can land after the engine's last step: the run finished, but it went outside the declaration.
    if (watch.tripped) throw await this.blastRadiusStop(watch.tripped);
    this.timings.upMs = Date.now() - tu;
    return result;
  }

  /**
   * After `up`: the hosts must reach what the operation asked (a database topology), observed
   * through the live facts until they do or the verify timeout passes.
   */
  private async verifyHosts(p: Planned): Promise<HostConvergence | undefined> {
    const { deps, rec } = this;
    if (OPERATIONS[rec.kind].hosts !== "db-topology") return undefined;
    const expect = expectedHosts(
      { ...p.config, spec: p.plan.nextSpec } as SiteConfig,
      FAILOVER_MAX_LAG_SECONDS,
    );
    if (!expect) return undefined;
    await this.assertOwner();
    await this.phase("verify");
    // The update is applied: a cancel now would only hide what the hosts do, so only a shutdown
    // stops the watch. fail() then hands the operation back, and the next run (its up finds nothing
    // to change) verifies again.
    const shutdown = onlyShutdown(this.signal);
    const hosts = await awaitHosts(rec.site, expect, deps.facts, { ...deps.hostVerify, signal: shutdown });
    if (!hosts.converged && shutdown.aborted)
      throw new Error("the verify phase was interrupted by a shutdown");
    await deps.ledger.event(this.operationId, "verify", {
      converged: hosts.converged,
      waitedMs: hosts.waitedMs,
      observations: hosts.observations,
    });
    return hosts;
  }

  /**
   * Commit, then the outcome and the site's new state in one atomic, fenced step. The update is
   * applied either way; hosts that did not converge make the outcome `failed` (HOST_NOT_CONVERGED).
   */
  private async record(p: Planned, result: UpdateOutcome, hosts?: HostConvergence): Promise<RunOutcome> {
    const { deps, rec, operationId } = this;
    await this.phase("record");
    const outputs = redactOutputs(result.outputs);
    if (rec.rehearsal) return this.recordRehearsal(p, result, hosts, outputs);
    const message = `${rec.site}: ${p.plan.summary} (config revision ${p.to})\n\nOperation: ${operationId}\nRequested-by: ${rec.requester.tokenId}\nPrevious-revision: ${p.from}\n${p.plan.changes.map((c) => `Changed: ${c.path}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join("\n")}`;
    const localCommit = deps.git.enabled
      ? await commitStackFile({
          repoDir: deps.stackFiles.workspaceDir,
          file: deps.stackFiles.pathOf(rec.site),
          message,
          author: deps.git.author,
        }).catch((err) => {
          this.log.error("git commit failed; the update is applied and recorded", { err });
          return undefined;
        })
      : undefined;
    const published = await this.publish(message);
    const commit = published && published.outcome !== "conflict" ? published.commit : localCommit;
    this.timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    const converged = hosts?.converged ?? true;
    const failure = !converged
      ? failureFields("HOST_NOT_CONVERGED", unconvergedSummary(hosts!))
      : published?.outcome === "conflict"
        ? failureFields(
            "GIT_CONFLICT",
            `stacks/Pulumi.${rec.site}.yaml changed on the git remote while this operation ran (commit ${published.commit}, ${published.by}); nothing was pushed over it. The update is applied (revision ${p.to}); this operation's stack file is on the remote branch ${published.aside} (${published.asideCommit}): merge the two by hand`,
          )
        : undefined;
    const r = await deps.ledger.move(
      operationId,
      ["running"],
      failure ? "failed" : "succeeded",
      {
        ...(failure ?? {}),
        ...(hosts ? { hosts } : {}),
        finishedAt: new Date().toISOString(),
        result: {
          resourceChanges: (result.summary.resourceChanges ?? {}) as Record<string, number>,
          engineResult: result.summary.result,
        },
        outputs,
        revision: { from: p.from, to: p.to, commit },
        timings: this.timings,
        eventsSummary: this.upRecorder?.counts,
      },
      {
        fence: this.fence,
        site: {
          site: rec.site,
          set: {
            configRevision: p.to,
            outputs,
            lastOperationId: operationId,
            updatedAt: new Date().toISOString(),
            commit,
          },
          clearPendingWrite: true,
        },
      },
    );
    if (r !== "done") return this.stopped(r);
    if (failure) {
      this.log.warn("operation failed: the update is applied", {
        revision: p.to,
        code: failure.failure.code,
        reason: failure.failure.message,
      });
      return { status: "failed", reason: failure.reason };
    }
    this.log.info("operation succeeded", { revision: p.to, upMs: this.timings.upMs });
    return { status: "succeeded" };
  }

  /** A rehearsal's end: on the record and linked from the site; no commit, no push, no deployed revision. */
  private async recordRehearsal(
    p: Planned,
    result: UpdateOutcome,
    hosts: HostConvergence | undefined,
    outputs: Record<string, unknown>,
  ): Promise<RunOutcome> {
    const { deps, rec, operationId } = this;
    this.timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    const converged = hosts?.converged ?? true;
    const failure = converged ? undefined : failureFields("HOST_NOT_CONVERGED", unconvergedSummary(hosts!));
    const status = failure ? "failed" : "succeeded";
    const finishedAt = new Date().toISOString();
    const r = await deps.ledger.move(
      operationId,
      ["running"],
      status,
      {
        ...(failure ?? {}),
        ...(hosts ? { hosts } : {}),
        finishedAt,
        result: {
          resourceChanges: (result.summary.resourceChanges ?? {}) as Record<string, number>,
          engineResult: result.summary.result,
        },
        outputs,
        revision: { from: p.from, to: p.to },
        timings: this.timings,
        eventsSummary: this.upRecorder?.counts,
      },
      { fence: this.fence, site: rehearsalLink(rec, status, finishedAt) },
    );
    if (r !== "done") return this.stopped(r);
    this.log.info(`rehearsal ${status}`, { revision: p.to });
    return failure ? { status, reason: failure.reason } : { status };
  }

  /** Every way a run ends without success: hand back, or settle the stack file and end the operation once. */
  private async fail(err: unknown): Promise<RunOutcome> {
    const { deps, rec, operationId } = this;
    if (err instanceof Superseded) {
      this.log.warn("this run no longer owns the operation; it stopped without changing anything", {
        reason: err.message,
      });
      return { status: "superseded", reason: err.message };
    }
    if (this.signal?.aborted && this.signal.reason === SHUTDOWN_REASON) {
      // The file keeps this operation's change (and its revision): the next worker continues it.
      const r = await deps.ledger.move(
        operationId,
        ["running"],
        "queued",
        { timings: this.timings },
        { fence: this.fence },
      );
      if (r !== "done") return this.stopped(r);
      await deps.ledger.event(operationId, "handed-back", {
        note: "the worker shut down; the engine stopped at a safe point and the operation is queued again",
      });
      return { status: "handed-back" };
    }
    const cancelled = err instanceof Cancelled || this.signal?.aborted === true;
    const { code, reason } = cancelled
      ? { code: "CANCELLED" as const, reason: "cancelled at the engine's next safe point" }
      : failureReason(err, deps.secrets);
    const status: OperationStatus = cancelled ? "cancelled" : "failed";
    let settlement: StackFileSettlement | undefined;
    // A rehearsal wrote only its twin's stack file, which goes with the twin.
    if (this.wroteFile && !rec.rehearsal) {
      if (!(await this.owns()))
        return { status: "superseded", reason: "lost the stack before settling the stack file" };
      settlement = await this.settle(cancelled ? "cancelled" : code);
    }
    this.timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    const finishedAt = new Date().toISOString();
    const r = await deps.ledger.move(
      operationId,
      ["queued", "running"],
      status,
      {
        ...failureFields(code, reason),
        finishedAt,
        timings: this.timings,
        ...(settlement ? { settlement } : {}),
      },
      { fence: this.fence, ...(rec.rehearsal ? { site: rehearsalLink(rec, status, finishedAt) } : {}) },
    );
    if (r !== "done") return this.stopped(r);
    this.log.warn(`operation ${status}`, { code, reason, stackFile: settlement?.action });
    return { status, reason };
  }

  /** Settles this run's change in the stack file against what the engine deployed, and records how. */
  private async settle(why: string): Promise<StackFileSettlement> {
    const applied = this.upRecorder?.applied ?? [];
    const s = await settleStackFile(this.deps, {
      site: this.rec.site,
      operationId: this.operationId,
      deployedRevision: await this.deployedRevision(true),
      applied,
      why,
    });
    await this.recordSettlement(s, why);
    return s;
  }

  private async recordSettlement(s: StackFileSettlement, why: string): Promise<void> {
    if (s.action === "restored") await this.recordStep("stack-file-restored", s.note);
    else if (s.action === "reverted") await this.recordStep("stack-file-reverted", s.note);
    if (s.applied.length > 0)
      await this.deps.ledger.event(this.operationId, "partially-applied", {
        why,
        applied: s.applied.slice(0, 200),
        deployedRevision: s.deployedRevision,
      });
  }

  /**
   * The revision the engine's state records as deployed. When the state cannot be read after an
   * engine run (`afterEngine`), the worst case is assumed: this run's revision may be deployed.
   */
  private async deployedRevision(afterEngine = false): Promise<number | undefined> {
    try {
      return deployedRevisionFromState(await this.session!.currentState());
    } catch (err) {
      if (!afterEngine) throw err;
      this.log.error("could not read the deployed revision after the engine stopped; assuming this run's", {
        err,
      });
      return (await this.deps.ledger.get(this.operationId))?.revision?.to;
    }
  }

  private async owns(): Promise<boolean> {
    if (!(await this.lock.verify())) return false;
    const now = await this.deps.ledger.get(this.operationId);
    return now?.status === "running" && now.fence === this.fence;
  }

  /** Checked before every engine step and every write of the stack file. */
  private async assertOwner(): Promise<void> {
    if (!(await this.owns()))
      throw new Superseded(`the stack lock or the operation's fence ${this.fence} is no longer this run's`);
  }

  private async checkCancel(): Promise<void> {
    if (this.signal?.aborted || (await this.deps.ledger.get(this.operationId))?.cancelRequested)
      throw new Cancelled();
  }

  private policyOptions() {
    return this.policyConfig
      ? { policyPacks: this.deps.policyPacks, policyPackConfigs: [this.policyConfig.file] }
      : {};
  }

  /** A fenced move that did not happen: the operation ended, or another run holds it. */
  private stopped(r: TransitionResult): RunOutcome {
    this.log.warn("the ledger refused this run's move; another run or request owns the operation", {
      result: r,
    });
    return r === "already-ended"
      ? { status: "superseded", reason: "the operation had already ended", alreadyFinished: true }
      : { status: "superseded", reason: `ledger: ${r}` };
  }

  private async phase(name: RunPhase): Promise<void> {
    await this.deps.ledger.event(this.operationId, "phase", { phase: name, fence: this.fence });
  }

  private async recordStep(step: RecoveryStep["step"], detail: string): Promise<void> {
    const s = { at: new Date().toISOString(), step, detail };
    this.recovery.push(s);
    await this.deps.ledger.patch(this.operationId, { recovery: this.recovery });
    await this.deps.ledger.event(this.operationId, "recovery", s);
    this.log.warn("recovery", { step, detail });
  }

  /** Every refusal, from any layer, lands on the record with its rule, value and limit. */
  private async refuse(refusals: Refusal[]): Promise<void> {
    const before = (await this.deps.ledger.get(this.operationId))?.refusals ?? this.rec.refusals ?? [];
    await this.deps.ledger.patch(this.operationId, { refusals: [...before, ...refusals] });
    await this.deps.ledger.event(this.operationId, "refused", { refusals });
  }

  private async blastRadiusStop(step: { op: string; type: string; urn: string }): Promise<BlastRadiusError> {
    await this.refuse([duringUpRefusal(this.rec.kind, step)]);
    return new BlastRadiusError(this.rec.kind, [step]);
  }
}
