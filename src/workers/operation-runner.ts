import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { EngineSettings } from "../engine/engine-env";
import { releaseForDeletion } from "../engine/release-for-deletion";
import { recoverStack, type PendingCreateVerdict } from "../engine/recovery";
import { assertRevisionNotStale, deployedRevisionFromState } from "../engine/revision-guard";
import type { StackLock } from "../engine/stack-lock";
import { StackSession } from "../engine/stack-session";
import { AppError, BlastRadiusError, GuardRefusedError, PolicyViolationError } from "../errors";
import { approvalNeed } from "../operations/approval-policy";
import type { GuardEnvironment } from "../operations/guards/evaluate-guards";
import type { RecordedRefusal } from "../operations/guards/guard-types";
import { planAndGuard } from "../operations/planner";
import { evaluateLiveChecks, outsideBlastRadius, type LiveFacts } from "../operations/checks";
import { commitStackFile } from "../operations/git-commit";
import type { Ledger } from "../operations/ledger";
import { isTerminal, type OperationRecord, type RecoveryStep } from "../operations/operation-record";
import type { StackFileStore } from "../operations/stack-file-store";
import { packConfigFor, type PolicyOverrides } from "../policy/policy-settings";
import type { Logger } from "../service/logger";
import { redactOutputs } from "../service/redact";
import { BlastRadiusWatch, previewDigest } from "./blast-radius-watch";
import { EngineEventRecorder } from "./engine-events";
import { failureReason } from "./failure-reason";
import { PolicyViolationCollector, writePolicyConfig } from "./policy-run";

export interface RunnerDeps {
  ledger: Ledger;
  stackFiles: StackFileStore;
  stackLock: StackLock;
  /** Engine settings per stack (in the sandbox each site is its own simulated cloud account). */
  engine: (site: string) => EngineSettings;
  projectName: string;
  program: () => PulumiFn;
  facts: LiveFacts;
  inspectPendingCreate?: (site: string, urn: string) => PendingCreateVerdict;
  git: { enabled: boolean; author: { name: string; email: string } };
  logger: Logger;
  /** Strings that must never reach the ledger (the passphrase). */
  secrets: readonly string[];
  stackLockWaitMs: number;
  liveEngineLockWaitMs: number;
  foreignEngineLockStaleMs: number;
  /** Guard settings, clock and run history (src/operations/guards/). */
  guards: GuardEnvironment;
  /** Policy pack folders run on every preview and up (the repo's policy-pack/ in the service). */
  policyPacks: string[];
  /** Per-site sizes and resource ceiling for the pack (STACKYARD_POLICY_FILE); defaults where absent. */
  policyOverrides?: PolicyOverrides;
  /** How long a risky operation waits for approval after its preview. */
  approvalTtlMs: number;
}

export type RunOutcome = { status: OperationRecord["status"] | "handed-back"; reason?: string; alreadyFinished?: boolean };

/** The abort reason a shutting-down worker uses: the operation goes back to the queue instead of ending. */
export const SHUTDOWN_REASON = "stackyard:worker-shutdown";

class Cancelled extends Error {}

/**
 * One operation, start to end: stack lock → recovery → plan on the stack file as it is now →
 * preview → checks → up → record and commit. Safe to run again on the same operation (a retry
 * after a crash): the stack file write is remembered per operation, the change is declarative.
 */
export async function runOperation(deps: RunnerDeps, operationId: string, signal?: AbortSignal): Promise<RunOutcome> {
  const { ledger } = deps;
  const rec = await ledger.get(operationId);
  if (!rec) return { status: "failed", reason: `no ledger record for ${operationId}` };
  if (isTerminal(rec.status)) return { status: rec.status, reason: rec.reason, alreadyFinished: true };
  const log = deps.logger.child({ operationId, stack: rec.site });
  const t0 = Date.now();

  const lock = await deps.stackLock.acquire(rec.site, operationId, deps.stackLockWaitMs);
  if ("busy" in lock) {
    // Global concurrency should make this impossible; if it happens, a paused process still holds the stack.
    const reason = `stack ${rec.site} is held by operation ${lock.busy.operationId} (pid ${lock.busy.pid} on ${lock.busy.host})`;
    await ledger.transition(operationId, ["queued", "running"], "failed", { reason, finishedAt: new Date().toISOString() });
    return { status: "failed", reason };
  }

  const recovery: RecoveryStep[] = [...rec.recovery];
  const record = async (step: RecoveryStep["step"], detail: string) => {
    const s = { at: new Date().toISOString(), step, detail };
    recovery.push(s);
    await ledger.patch(operationId, { recovery });
    await ledger.event(operationId, "recovery", s);
    log.warn("recovery", { step, detail });
  };
  const timings: OperationRecord["timings"] = { ...rec.timings, queuedMs: rec.timings.queuedMs ?? t0 - Date.parse(rec.createdAt) };
  let wroteFile = false;
  let policyConfig: { file: string; remove: () => void } | undefined;
  // Every refusal, from any layer, lands on the record with its rule, value and limit.
  const refuse = async (refusals: RecordedRefusal[]) => {
    await ledger.patch(operationId, { refusals: [...(rec.refusals ?? []), ...refusals] });
    await ledger.event(operationId, "refused", { refusals });
  };
  try {
    const attempts = rec.attempts + 1;
    await ledger.transition(operationId, ["queued", "running"], "running", { startedAt: rec.startedAt ?? new Date(t0).toISOString(), attempts, timings });
    // Coalesced scale requests may change the wanted value until the transition above: read it after.
    const params = (await ledger.get(operationId))?.params ?? rec.params;
    if (attempts > 1) await ledger.event(operationId, "retry", { attempt: attempts, note: "a previous worker stopped mid-operation" });
    await checkCancel(deps, operationId, signal);

    const session = await StackSession.open(
      { projectName: deps.projectName, stackName: rec.site, workDir: deps.stackFiles.workspaceDir, program: deps.program() },
      deps.engine(rec.site),
    );

    // Recovery: engine locks and pending operations left by a dead worker, and a stack file another failed operation left behind.
    const tr = Date.now();
    await recoverStack({
      session,
      stateDir: deps.engine(rec.site).stateDir,
      projectName: deps.projectName,
      stackName: rec.site,
      liveLockWaitMs: deps.liveEngineLockWaitMs,
      foreignLockStaleMs: deps.foreignEngineLockStaleMs,
      inspectPendingCreate: deps.inspectPendingCreate && ((urn) => deps.inspectPendingCreate!(rec.site, urn)),
      record,
    });
    const site = await ledger.siteState(rec.site);
    if (site.pendingWrite && site.pendingWrite.operationId !== operationId) {
      const other = await ledger.get(site.pendingWrite.operationId);
      // An operation handed back by a stopping worker still wants its change: it stays in the file
      // and this operation plans on top of it. Only a change whose operation ended without success is undone.
      if (!other || ["failed", "cancelled", "expired"].includes(other.status)) {
        deps.stackFiles.writeText(rec.site, site.pendingWrite.previousText);
        await ledger.clearPendingWrite(rec.site);
        await record("stack-file-restored", `restored stacks/Pulumi.${rec.site}.yaml left modified by ${site.pendingWrite.operationId} (${other?.status ?? "unknown"})`);
      }
    }
    timings.recoveryMs = Date.now() - tr;

    // Plan on the stack file as it is now (earlier operations may have changed it since submission).
    const ours = site.pendingWrite?.operationId === operationId ? site.pendingWrite : undefined;
    const config = deps.stackFiles.load(rec.site);
    const deployed = deployedRevisionFromState(await session.stack.exportStack());
    if (!ours) assertRevisionNotStale(rec.site, config.configRevision, deployed);
    // Layer 2: the operation guards again, on the config and history as they are now.
    const settings = deps.guards.settings(config.site);
    let plan;
    try {
      const guarded = planAndGuard(config, rec.kind, params, { settings, now: deps.guards.now(), runsLastHour: await deps.guards.runsLastHour(rec.site, operationId) });
      plan = guarded.plan;
      const notes = guarded.outcomes.filter((o) => o.ok && /emergency/.test(o.message)).map((o) => `${o.rule}: ${o.message}`);
      if (notes.length > 0) await ledger.patch(operationId, { guardNotes: notes });
    } catch (err) {
      if (err instanceof GuardRefusedError) {
        await refuse([{ layer: "guard", rule: err.rule, value: err.details.value, limit: err.details.limit, message: err.message }]);
      }
      throw err;
    }
    await ledger.recordRun(rec.site, operationId, Date.now());
    const to = ours ? ours.revision : Math.max(config.configRevision, deployed ?? 0) + 1;
    const from = ours ? ours.revision - 1 : config.configRevision;
    // A retry plans on its own change already in the file: keep the plan it was accepted with.
    if (!ours) await ledger.patch(operationId, { plan: { summary: plan.summary, changes: plan.changes, noop: plan.noop } });
    await ledger.patch(operationId, { revision: { from, to } });
    if (!ours) {
      const previousText = deps.stackFiles.writeSpec(rec.site, plan.nextSpec, to);
      await ledger.setSiteState(rec.site, { pendingWrite: { operationId, previousText, revision: to } });
    }
    wroteFile = true;
    await checkCancel(deps, operationId, signal);

    // A stateful resource the operation declares it deletes is released from the engine's protection first.
    const released = await releaseForDeletion(session, plan.allowUnprotected ?? []);
    if (released.length > 0) await ledger.event(operationId, "protection-released", { urns: released });

    // Preview, then the checks that need it (blast radius) and the live facts (standby lag).
    const tp = Date.now();
    const pre = new EngineEventRecorder(ledger, operationId, "preview", deps.secrets);
    // Layer 3: the resource policy pack on the engine's own steps, with the stateful names this operation declares.
    policyConfig = deps.policyPacks.length > 0 ? writePolicyConfig(operationId, packConfigFor(config.site, deps.policyOverrides ?? {}, plan.allowUnprotected ?? [])) : undefined;
    const policyOpts = policyConfig ? { policyPacks: deps.policyPacks, policyPackConfigs: [policyConfig.file] } : {};
    const prePolicy = new PolicyViolationCollector();
    const preview = await session
      .preview({ onEvent: (e) => (pre.onEvent(e), prePolicy.onEvent(e)), signal, ...policyOpts })
      .catch(async (err: unknown) => {
        await pre.flush();
        if (signal?.aborted) throw err;
        // The engine may stop the preview itself (a protected database it would replace): the steps it announced still say why.
        const outsideSeen = outsideBlastRadius(pre.steps, plan.touches);
        const refusals = [...outsideSeen.map((o) => blastRefusal(o, plan.touches)), ...prePolicy.refusals];
        if (refusals.length > 0) await refuse(refusals);
        // The policy failed the run, so it is the reason; steps outside the declaration are recorded beside it.
        if (prePolicy.refusals.length > 0) throw new PolicyViolationError(prePolicy.refusals);
        if (outsideSeen.length > 0) throw new BlastRadiusError(rec.kind, outsideSeen);
        throw err;
      });
    await pre.flush();
    timings.previewMs = Date.now() - tp;
    const previewSummary = { changes: preview.changeSummary as Record<string, number>, steps: pre.steps };
    const outside = outsideBlastRadius(pre.steps, plan.touches);
    const checks = [
      { rule: "blast-radius", ok: outside.length === 0, message: outside.length === 0 ? "every planned step is inside the operation's declared resources" : `${outside.length} step(s) outside` },
      ...(await evaluateLiveChecks(rec.site, plan.liveChecks, deps.facts)),
    ];
    await ledger.patch(operationId, { preview: previewSummary, checks, timings });
    await ledger.event(operationId, "checks", { checks });
    if (outside.length > 0) {
      await refuse(outside.map((o) => blastRefusal(o, plan.touches)));
      throw new BlastRadiusError(rec.kind, outside);
    }
    const refused = checks.find((c) => !c.ok);
    if (refused) {
      await refuse([{ layer: "guard", rule: refused.rule, value: refused.value, limit: refused.limit, message: refused.message }]);
      throw new GuardRefusedError(refused.rule, refused.message, { value: refused.value, limit: refused.limit });
    }
    await checkCancel(deps, operationId, signal);

    // Approvals: a risky operation stops here until another principal approves what this preview showed.
    const approval = rec.approval ?? approvalNeed(config, plan, settings);
    const digest = previewDigest(pre, params);
    if (approval && !approval.approvedAt) {
      const now = deps.guards.now();
      const expiresAt = new Date(now.getTime() + deps.approvalTtlMs).toISOString();
      // The stack file goes back to the deployed revision: nothing waits half-applied, other operations may run.
      await restoreStackFile(deps, rec.site, operationId, record);
      wroteFile = false;
      const waiting = { ...approval, requestedAt: now.toISOString(), expiresAt, previewDigest: digest };
      await ledger.addAwaiting(operationId, Date.parse(expiresAt));
      await ledger.transition(operationId, ["running"], "awaiting-approval", { approval: waiting, timings });
      log.info("operation awaiting approval", { reasons: approval.reasons, expiresAt });
      return { status: "awaiting-approval" };
    }
    if (approval?.approvedAt && approval.previewDigest && approval.previewDigest !== digest) {
      const message = `the preview changed since ${approval.approvedBy} approved it; submit the operation again`;
      await refuse([{ layer: "guard", rule: "approved-preview-changed", value: digest, limit: approval.previewDigest, message }]);
      throw new GuardRefusedError("approved-preview-changed", message, { value: digest, limit: approval.previewDigest });
    }
    if (deps.stackLock && "lost" in lock && lock.lost()) throw new AppError("STACK_LOCK_LOST", 500, "lost the stack lock before the update; not applying");

    const tu = Date.now();
    const up = new EngineEventRecorder(ledger, operationId, "up", deps.secrets);
    // Blast radius during up: the first step outside the declaration aborts the engine run.
    const watch = new BlastRadiusWatch(plan.touches);
    const upPolicy = new PolicyViolationCollector();
    const upSignal = signal ? AbortSignal.any([signal, watch.signal]) : watch.signal;
    const result = await session
      .up({ onEvent: (e) => (up.onEvent(e), watch.onEvent(e), upPolicy.onEvent(e)), signal: upSignal, ...policyOpts })
      .catch(async (err: unknown) => {
        await up.flush();
        if (watch.tripped && !signal?.aborted) throw await blastRadiusStop(watch.tripped);
        if (upPolicy.refusals.length > 0 && !signal?.aborted) {
          await refuse(upPolicy.refusals);
          throw new PolicyViolationError(upPolicy.refusals);
        }
        throw err;
      });
    await up.flush();
    // The abort can land after the engine's last step: the run finished, but it went outside the declaration.
    if (watch.tripped) throw await blastRadiusStop(watch.tripped);
    timings.upMs = Date.now() - tu;
    const outputs = redactOutputs(result.outputs);

    const commit = deps.git.enabled
      ? await commitStackFile({
          repoDir: deps.stackFiles.workspaceDir,
          file: deps.stackFiles.pathOf(rec.site),
          message: `${rec.site}: ${plan.summary} (config revision ${to})\n\nOperation: ${operationId}\nRequested-by: ${rec.requester.tokenId}\nPrevious-revision: ${from}\n${plan.changes.map((c) => `Changed: ${c.path}: ${JSON.stringify(c.from)} -> ${JSON.stringify(c.to)}`).join("\n")}`,
          author: deps.git.author,
        }).catch((err) => {
          log.error("git commit failed; the update is applied and recorded", { err });
          return undefined;
        })
      : undefined;
    await ledger.setSiteState(rec.site, { configRevision: to, outputs, lastOperationId: operationId, updatedAt: new Date().toISOString(), commit });
    await ledger.clearPendingWrite(rec.site);
    timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    await ledger.transition(operationId, ["running"], "succeeded", {
      finishedAt: new Date().toISOString(),
      result: { resourceChanges: (result.summary.resourceChanges ?? {}) as Record<string, number>, engineResult: result.summary.result },
      outputs,
      revision: { from, to, commit },
      timings,
      eventsSummary: up.counts,
    });
    log.info("operation succeeded", { revision: to, upMs: timings.upMs });
    policyConfig?.remove();
    return { status: "succeeded" };
  } catch (err) {
    if (signal?.aborted && signal.reason === SHUTDOWN_REASON) {
      // The file keeps this operation's change (and its revision): the next worker continues it.
      await ledger.transition(operationId, ["running"], "queued", { timings });
      await ledger.event(operationId, "handed-back", { note: "the worker shut down; the engine stopped at a safe point and the operation is queued again" });
      return { status: "handed-back" };
    }
    const cancelled = err instanceof Cancelled || signal?.aborted === true;
    const { code, reason } = cancelled ? { code: "CANCELLED", reason: "cancelled at the engine's next safe point" } : failureReason(err, deps.secrets);
    if (wroteFile) await restoreStackFile(deps, rec.site, operationId, record);
    timings.totalMs = Date.now() - Date.parse(rec.createdAt);
    const status = cancelled ? "cancelled" : "failed";
    await ledger.transition(operationId, ["queued", "running"], status, { reason: `${code}: ${reason}`, finishedAt: new Date().toISOString(), timings });
    log.warn(`operation ${status}`, { code, reason });
    return { status, reason };
  } finally {
    policyConfig?.remove();
    await lock.release();
  }

  function blastRefusal(o: { op: string; type: string; urn: string }, touches: unknown): RecordedRefusal {
    return { layer: "blast-radius", rule: "blast-radius", value: `${o.op} ${o.type} ${o.urn}`, limit: touches, message: `${rec!.kind} would ${o.op} ${o.type} ${o.urn}, outside what it declares` };
  }

  async function blastRadiusStop(step: { op: string; type: string; urn: string }): Promise<BlastRadiusError> {
    const message = `the engine started ${step.op} ${step.type} ${step.urn} during up, outside what ${rec!.kind} declares; the update was stopped`;
    await refuse([{ layer: "blast-radius", rule: "blast-radius", value: `${step.op} ${step.type} ${step.urn}`, limit: "the operation's declared touches", message }]);
    return new BlastRadiusError(rec!.kind, [step]);
  }
}

async function checkCancel(deps: RunnerDeps, operationId: string, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted || (await deps.ledger.get(operationId))?.cancelRequested) throw new Cancelled();
}

/** A failed or cancelled operation leaves the stack file as it found it (the desired state stays the deployed one). */
async function restoreStackFile(deps: RunnerDeps, site: string, operationId: string, record: (s: RecoveryStep["step"], d: string) => Promise<void>) {
  const state = await deps.ledger.siteState(site);
  if (state.pendingWrite?.operationId !== operationId) return;
  deps.stackFiles.writeText(site, state.pendingWrite.previousText);
  await deps.ledger.clearPendingWrite(site);
  await record("stack-file-restored", `stacks/Pulumi.${site}.yaml restored to revision ${state.pendingWrite.revision - 1}`);
}
