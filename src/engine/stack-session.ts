import * as fs from "node:fs";
import {
  EngineEvent,
  LocalWorkspace,
  OutputMap,
  PulumiFn,
  Stack,
  UpdateSummary,
} from "@pulumi/pulumi/automation";
import { pulumiCommand } from "./engine-command";
import { EngineSettings, engineEnv, stateBackend } from "./engine-env";
import { seedSecretConfig } from "./seed-secret-config";
import { engineBackendUrl } from "./backend-proxy";

/** One stack of an inline program, in a folder that holds Pulumi.yaml (and stacks/ for its config). */
export interface StackTarget {
  projectName: string;
  stackName: string;
  /** Folder with Pulumi.yaml; stack config is read from and written to its stackConfigDir. */
  workDir: string;
  program: PulumiFn;
}

/** What every engine run may take: a live event stream and a cancellation signal. */
export interface RunOptions {
  onEvent?: (event: EngineEvent) => void;
  signal?: AbortSignal;
  /** Folders of policy packs to run on the engine's own steps. */
  policyPacks?: string[];
  /** JSON files of policy config for those packs (`--policy-pack-config`). */
  policyPackConfigs?: string[];
}

export interface UpdateOutcome {
  summary: UpdateSummary;
  outputs: OutputMap;
}

/** A stack bound to the pinned CLI and a state backend: the one place that runs engine operations. */
export class StackSession {
  private constructor(readonly stack: Stack) {}

  static async open(target: StackTarget, settings: EngineSettings): Promise<StackSession> {
    const backend = stateBackend(settings);
    if (backend.kind === "file") fs.mkdirSync(backend.dir, { recursive: true });
    fs.mkdirSync(settings.pulumiHome, { recursive: true });
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: target.stackName, projectName: target.projectName, program: target.program },
      {
        workDir: target.workDir,
        envVars: engineEnv(settings, await engineBackendUrl(backend)),
        pulumiCommand: await pulumiCommand(),
        secretsProvider: "passphrase",
      },
    );
    if (settings.seedSecretConfig) await seedSecretConfig(stack, target.workDir, settings.seedSecretConfig);
    return new StackSession(stack);
  }

  get name(): string {
    return this.stack.name;
  }

  async preview(opts: RunOptions = {}) {
    return this.stack.preview({ ...opts, diff: false });
  }

  async up(opts: RunOptions = {}): Promise<UpdateOutcome> {
    const result = await this.stack.up(opts);
    return { summary: result.summary, outputs: result.outputs };
  }

  async refresh(opts: Omit<RunOptions, "policyPacks"> & { clearPendingCreates?: boolean } = {}) {
    return this.stack.refresh(opts);
  }

  async destroy(opts: Omit<RunOptions, "policyPacks"> = {}) {
    return this.stack.destroy(opts);
  }

  async outputs(): Promise<OutputMap> {
    return this.stack.outputs();
  }

  /** The engine's operations left in state by an interrupted update (empty when the state is clean). */
  async pendingOperations(): Promise<Array<{ resource: { urn: string; type: string }; type: string }>> {
    const state = await this.stack.exportStack();
    return (state.deployment?.pending_operations as never[]) ?? [];
  }
}
