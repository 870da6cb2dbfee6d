import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { EngineSettings } from "../engine/engine-env";
import { StackSession } from "../engine/stack-session";
import type { Logger } from "../infra/observability/logger";

export interface SandboxBootstrapDeps {
  sites: string[];
  workspaceDir: string;
  projectName: string;
  program: () => PulumiFn;
  engine: (site: string) => EngineSettings;
  logger: Logger;
  /** Told the outputs of each site found deployed or brought up (the ledger's view of what is deployed). */
  recordDeployed?: (
    site: string,
    outputs: Record<string, { value: unknown; secret: boolean }>,
  ) => Promise<void>;
}

/**
 * The sites exist before stackyard runs their day-2 operations; a fresh sandbox has none of them.
 * On the embedded default (`npm start`) each site that has never been deployed in this sandbox is
 * brought up once from its committed stack file, so the rehearsal starts from the site as it stands.
 * The stack file is not changed and no revision is recorded: this is the world, not an operation.
 */
export async function bootstrapSandboxSites(deps: SandboxBootstrapDeps): Promise<string[]> {
  const deployed: string[] = [];
  for (const site of deps.sites) {
    const session = await StackSession.open(
      { projectName: deps.projectName, stackName: site, workDir: deps.workspaceDir, program: deps.program() },
      deps.engine(site),
    );
    const existing = await session.outputs();
    if (Object.keys(existing).length > 0) {
      await deps.recordDeployed?.(site, existing);
      continue;
    }
    const started = Date.now();
    const result = await session.up();
    if (result.summary.result !== "succeeded")
      throw new Error(`sandbox bootstrap of ${site}: ${result.summary.result}`);
    deps.logger.info("sandbox site brought up from its stack file", {
      stack: site,
      ms: Date.now() - started,
      resources: result.summary.resourceChanges?.create ?? 0,
    });
    await deps.recordDeployed?.(site, result.outputs);
    deployed.push(site);
  }
  return deployed;
}
