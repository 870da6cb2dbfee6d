import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import type { EngineSettings } from "../engine/engine-env";
import { StackSession } from "../engine/stack-session";
import { StackFileStore } from "../operations/stack-file-store";
import type { SiteId } from "../programs/sites";
import { installSandboxPluginsSync } from "../sandbox/install-plugins";
import { SandboxCloud } from "../sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../sandbox/site-credentials";
import { seedFromState, type StateResource } from "../sandbox/state-seed";
import type { RehearsalTwin } from "../workers/rehearsal-twin";
import type { RunnerDeps } from "../workers/runner-deps";
import { sandboxDirFor, sandboxFacts } from "./sandbox-facts";
import { projectFileFrom } from "./sandbox-workspace";

/**
 * A twin older than this belonged to a rehearsal whose worker died and was never retried: no run
 * holds a stack that long, and the folder holds the site's secrets in its simulated cloud.
 */
export const STALE_TWIN_MS = 24 * 3600_000;

/** Removes the twins under `root` last changed more than `maxAgeMs` ago; returns their names. */
export function sweepStaleTwins(root: string, maxAgeMs = STALE_TWIN_MS, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return removed;
  }
  for (const name of names) {
    const dir = path.join(root, name);
    try {
      if (now - fs.statSync(dir).mtimeMs <= maxAgeMs) continue;
      fs.rmSync(dir, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Removed by another process meanwhile.
    }
  }
  return removed;
}

/** The folder of one rehearsal's twin. */
export function twinDir(root: string, operationId: string): string {
  return path.join(root, operationId);
}

/**
 * Builds a rehearsal's twin of `site` under `<root>/<operationId>` (docs/operations.md,
 * "Rehearsal"), after sweeping the twins dead rehearsals left; a retried rehearsal starts its twin
 * afresh. On any failure the folder is removed.
 */
export async function prepareTwin(
  deps: TwinSource,
  root: string,
  site: string,
  operationId: string,
): Promise<RehearsalTwin> {
  sweepStaleTwins(root);
  const dir = twinDir(root, operationId);
  fs.rmSync(dir, { recursive: true, force: true });
  return buildTwin(deps, dir, site);
}

/** What a twin is copied from: the live run's engine settings, program and stack files. */
export type TwinSource = Pick<RunnerDeps, "engine" | "projectName" | "program" | "stackFiles">;

/** The parts of a twin's folder `dir` (see `buildTwin`). */
export function twinLayout(dir: string): {
  backend: string;
  pulumiHome: string;
  cloudRoot: string;
  workspace: string;
} {
  return {
    backend: path.join(dir, "backend"),
    pulumiHome: path.join(dir, "sandbox-home"),
    cloudRoot: path.join(dir, "cloud"),
    workspace: path.join(dir, "workspace"),
  };
}

/**
 * Builds a sandbox twin of `site` in the new folder `dir`: the live stack's state exported and
 * imported into a backend of the twin's own; the site's stack file, with the sandbox account's
 * credentials in place of the operator's; a simulated cloud seeded with the state's resources; a
 * PULUMI_HOME holding only the simulated provider plugins. The live state is only read. On any
 * failure the folder is removed. A rehearsal's twin goes when it ends; an explored one is kept.
 */
export async function buildTwin(deps: TwinSource, dir: string, site: string): Promise<RehearsalTwin> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const layout = twinLayout(dir);
  try {
    const live = deps.engine(site);
    const workspace = copyWorkspace(deps.stackFiles, site, layout.workspace);
    const state = await StackSession.exportState(
      {
        projectName: deps.projectName,
        stackName: site,
        workDir: deps.stackFiles.workspaceDir,
        program: deps.program(),
      },
      { ...live, seedSecretConfig: undefined },
    );
    const engine: EngineSettings = {
      stateDir: layout.backend,
      passphrase: live.passphrase,
      pulumiHome: layout.pulumiHome,
      env: { STACKYARD_SANDBOX_DIR: sandboxDirFor(layout.cloudRoot, site) },
      seedSecretConfig: sandboxSiteCredentials(site as SiteId),
    };
    installSandboxPluginsSync(engine.pulumiHome);
    const session = await StackSession.open(
      { projectName: deps.projectName, stackName: site, workDir: workspace, program: deps.program() },
      engine,
    );
    await session.importState(state);
    const plain = await session.exportWithSecrets();
    const resources = (plain.deployment?.resources ?? []) as StateResource[];
    const seeded = seedFromState(new SandboxCloud(sandboxDirFor(layout.cloudRoot, site)), site, resources);
    return {
      dir,
      engine,
      stackFiles: new StackFileStore(workspace),
      facts: sandboxFacts(layout.cloudRoot).facts,
      seeded,
      remove,
    };
  } catch (err) {
    remove();
    throw err;
  }
}

/**
 * The twin's workspace: the project file and the site's stack file as they are now, with every
 * `credentials:<cloud>` key dropped (the twin's session sets the sandbox account's instead: the
 * simulated providers refuse real-looking credentials, and the operator's never leave the live stack).
 */
function copyWorkspace(live: StackFileStore, site: string, into: string): string {
  fs.mkdirSync(path.join(into, "stacks"), { recursive: true });
  fs.writeFileSync(path.join(into, "Pulumi.yaml"), projectFileFrom(live.workspaceDir));
  const doc = parseDocument(live.readText(site));
  const config = doc.get("config") as { items?: Array<{ key: unknown }> } | undefined;
  for (const item of [...(config?.items ?? [])]) {
    const key = String((item.key as { value?: unknown })?.value ?? item.key);
    if (key.startsWith("credentials:")) doc.deleteIn(["config", key]);
  }
  fs.writeFileSync(path.join(into, "stacks", `Pulumi.${site}.yaml`), doc.toString());
  return into;
}
