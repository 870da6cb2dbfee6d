import { execFile } from "node:child_process";
import * as fs from "node:fs";
import { promisify } from "node:util";
import {
  Deployment,
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
import { UpFacts, type UpSummary } from "./up-facts";

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
  summary: UpSummary;
  outputs: OutputMap;
}

/** A stack bound to the pinned CLI and a state backend: the one place that runs engine operations. */
export class StackSession {
  /** The state as last exported, until this session next runs something that changes it. */
  private state?: Promise<Deployment>;

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

  /**
   * The state of an existing stack (`pulumi stack export`), read without creating the stack or
   * touching its config: a rehearsal's copy of the live site (src/workers/rehearsal-twin.ts).
   * Secret values stay encrypted.
   */
  static async exportState(target: StackTarget, settings: EngineSettings): Promise<Deployment> {
    const stack = await LocalWorkspace.selectStack(
      { stackName: target.stackName, projectName: target.projectName, program: target.program },
      {
        workDir: target.workDir,
        envVars: engineEnv(settings, await engineBackendUrl(stateBackend(settings))),
        pulumiCommand: await pulumiCommand(),
        secretsProvider: "passphrase",
      },
    );
    return stack.exportStack();
  }

  /** Replaces this stack's state with `state` (`pulumi stack import`). */
  async importState(state: Deployment): Promise<void> {
    this.state = undefined;
    await this.stack.importStack(state);
  }

  /**
   * The state with its secrets in plaintext (`pulumi stack export --show-secrets`; the Automation
   * API's exportStack has no such option). Only for the sandbox twin, whose simulated cloud must
   * hold the values its resources were given; never logged or returned.
   */
  async exportWithSecrets(): Promise<Deployment> {
    const ws = this.stack.workspace as LocalWorkspace;
    const cmd = await pulumiCommand();
    const { stdout } = await promisify(execFile)(
      cmd.command,
      ["stack", "export", "--show-secrets", "--stack", this.stack.name],
      { cwd: ws.workDir, env: { ...process.env, ...ws.envVars }, maxBuffer: 512 * 1024 * 1024 },
    );
    return JSON.parse(stdout) as Deployment;
  }

  get name(): string {
    return this.stack.name;
  }

  async preview(opts: RunOptions = {}) {
    return this.stack.preview({ ...opts, diff: false });
  }

  /**
   * `pulumi up`. The Automation API's `up()` is run on a view of this stack whose `outputs()` and
   * `info()` answer from the update's own events (src/engine/up-facts.ts), so no CLI run follows
   * the engine's; each falls back to the CLI when the events did not say.
   */
  async up(opts: RunOptions = {}): Promise<UpdateOutcome> {
    this.state = undefined;
    const facts = new UpFacts();
    const view = Object.create(this.stack) as Stack;
    view.outputs = async () => facts.outputs() ?? this.stack.outputs();
    view.info = async (showSecrets?: boolean) =>
      (facts.summary() ?? (await this.stack.info(showSecrets))) as UpdateSummary;
    const result = await Stack.prototype.up.call(view, {
      ...opts,
      onEvent: (e: EngineEvent) => {
        facts.onEvent(e);
        opts.onEvent?.(e);
      },
    });
    return { summary: result.summary, outputs: result.outputs };
  }

  async refresh(opts: Omit<RunOptions, "policyPacks"> & { clearPendingCreates?: boolean } = {}) {
    this.state = undefined;
    return this.stack.refresh(opts);
  }

  async destroy(opts: Omit<RunOptions, "policyPacks"> = {}) {
    this.state = undefined;
    return this.stack.destroy(opts);
  }

  async outputs(): Promise<OutputMap> {
    return this.stack.outputs();
  }

  /**
   * The stack's state (`pulumi stack export`, secrets encrypted), read once and shared until this
   * session next runs an up, refresh, destroy or import: recovery's check for pending operations
   * and the plan's deployed revision read the same export (one CLI run, ~0.5 s, fewer per
   * operation). Only an operator's laptop run could change the state meanwhile, and it could as
   * well a moment after any fresh read: the update itself then meets its engine lock. Callers
   * must not mutate it.
   */
  currentState(): Promise<Deployment> {
    if (!this.state) {
      const read = this.stack.exportStack();
      this.state = read;
      read.catch(() => {
        if (this.state === read) this.state = undefined;
      });
    }
    return this.state;
  }

  /** The engine's operations left in state by an interrupted update (empty when the state is clean). */
  async pendingOperations(): Promise<Array<{ resource: { urn: string; type: string }; type: string }>> {
    const state = await this.currentState();
    return (state.deployment?.pending_operations as never[]) ?? [];
  }
}
