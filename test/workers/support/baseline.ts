import * as path from "node:path";
import { StackSession } from "../../../src/engine/stack-session";
import { programFromStackConfig } from "../../../src/programs/program";
import { installSandboxPlugins } from "../../../src/sandbox/install-plugins";
import type { Deployment } from "./service-harness";

/** The engine settings the service uses by default for a deployment (see src/service/config.ts). */
export function engineSettings(d: Deployment) {
  return {
    stateDir: path.join(d.stateDir, "backend"),
    pulumiHome: path.join(d.stateDir, "sandbox-home"),
    passphrase: "stackyard-sandbox-passphrase",
    env: { STACKYARD_SANDBOX_DIR: d.sandboxDir },
  };
}

export async function openSession(d: Deployment, site: string): Promise<StackSession> {
  await installSandboxPlugins(path.join(d.stateDir, "sandbox-home"));
  return StackSession.open({ projectName: "stackyard", stackName: site, workDir: d.workspace, program: programFromStackConfig() }, engineSettings(d));
}

/** The site's first deployment, as an operator does it before the service takes over day-2 operations. */
export async function deployBaseline(d: Deployment, site: string): Promise<void> {
  const session = await openSession(d, site);
  const r = await session.up();
  if (r.summary.result !== "succeeded") throw new Error(`baseline of ${site}: ${r.summary.result}`);
}
