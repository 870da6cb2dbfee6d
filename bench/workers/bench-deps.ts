import type { PulumiFn } from "@pulumi/pulumi/automation";
import type IORedis from "ioredis";
import { StackLock } from "../../src/coordination/stack-lock";
import type { Logger } from "../../src/infra/observability/logger";
import { guardEnvironment } from "../../src/operations/guards/evaluate-guards";
import { Ledger } from "../../src/operations/ledger";
import { OperationRetention } from "../../src/operations/retention";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { engineSettingsFor } from "../../src/service/engine-settings";
import { sandboxFacts } from "../../src/service/sandbox-facts";
import { serviceSecrets, type ServiceConfig } from "../../src/service/config";
import { POLICY_PACK_DIR } from "../../src/workers/policy-run";
import type { RunnerDeps } from "../../src/workers/runner-deps";

/**
 * The RunnerDeps a sandbox worker process builds in src/service/service.ts, built the same way
 * from the same ServiceConfig (minus what this benchmark does not exercise: sandbox hosts,
 * rehearsal twins, drift reports, a git remote). Used by the in-process worker (A) and by each
 * sandboxed child (B), which builds its own.
 */
export function benchRunnerDeps(
  cfg: ServiceConfig,
  redis: IORedis,
  program: () => PulumiFn,
  logger: Logger,
): RunnerDeps {
  if (cfg.mode !== "sandbox") throw new Error("the workers benchmark runs on the sandbox only");
  const { facts, inspectPendingCreate } = sandboxFacts(cfg.sandboxDir);
  const ledger = new Ledger(redis, new OperationRetention(redis, cfg.retentionSeconds));
  return {
    ledger,
    stackFiles: new StackFileStore(cfg.workspaceDir),
    stackLock: new StackLock(redis, cfg.stackLockTtlMs),
    engine: engineSettingsFor(cfg),
    projectName: "stackyard",
    program,
    facts,
    inspectPendingCreate,
    git: cfg.git,
    logger,
    secrets: serviceSecrets(cfg),
    stackLockWaitMs: cfg.stackLockTtlMs + 10_000,
    liveEngineLockWaitMs: 60_000,
    foreignEngineLockStaleMs: 6 * 3600_000,
    guards: guardEnvironment({
      overrides: cfg.policy.guardOverrides,
      runsSince: (site, since, exclude) => ledger.runsSince(site, since, exclude),
    }),
    policyPacks: cfg.policy.policyPack ? [POLICY_PACK_DIR] : [],
    policyOverrides: cfg.policy.packOverrides,
    approvalTtlMs: cfg.policy.approvalTtlMs,
    hostVerify: cfg.hostVerify,
  };
}
