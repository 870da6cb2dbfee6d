import * as path from "node:path";
import { StackSession } from "../../../src/engine/stack-session";
import { programFromStackConfig } from "../../../src/programs/program";
import { execFileSync } from "node:child_process";
import { StackFileStore } from "../../../src/operations/stack-file-store";
import { installSandboxPlugins } from "../../../src/sandbox/install-plugins";
import { SandboxCloud } from "../../../src/sandbox/sandbox-cloud";
import { sandboxDirFor } from "../../../src/service/sandbox-facts";
import type { Deployment } from "./service-harness";

/** The engine settings the service uses by default for a deployment (see src/service/config.ts). */
export function engineSettings(d: Deployment, site: string) {
  return {
    stateDir: path.join(d.stateDir, "backend"),
    pulumiHome: path.join(d.stateDir, "sandbox-home"),
    passphrase: "stackyard-sandbox-passphrase",
    env: { STACKYARD_SANDBOX_DIR: sandboxDirFor(d.sandboxDir, site) },
  };
}

export async function openSession(d: Deployment, site: string): Promise<StackSession> {
  await installSandboxPlugins(path.join(d.stateDir, "sandbox-home"));
  return StackSession.open({ projectName: "stackyard", stackName: site, workDir: d.workspace, program: programFromStackConfig() }, engineSettings(d, site));
}

/** The site's first deployment, as an operator does it before the service takes over day-2 operations. */
export async function deployBaseline(d: Deployment, site: string): Promise<void> {
  if (site === "insync") adoptInsyncBackups(d);
  const session = await openSession(d, site);
  const r = await session.up();
  if (r.summary.result !== "succeeded") throw new Error(`baseline of ${site}: ${r.summary.result}`);
}

/** insync_db_backups predates the program and cannot be created anew ("_"): seed it in the cloud and import it. */
function adoptInsyncBackups(d: Deployment): void {
  siteCloud(d, "insync").seedExisting("aws:s3/bucket:Bucket", "insync_db_backups", { bucket: "insync_db_backups", region: "us-east-1" });
  const files = new StackFileStore(d.workspace);
  const cfg = files.load("insync");
  if (cfg.site !== "insync") return;
  cfg.spec.mysql.backups.importId = "insync_db_backups";
  files.writeSpec("insync", cfg.spec, cfg.configRevision);
  execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@localhost", "commit", "-qam", "adopt insync_db_backups"], { cwd: d.workspace });
}

/** The simulated cloud account of one site in a deployment. */
export function siteCloud(d: Deployment, site: string): SandboxCloud {
  return new SandboxCloud(sandboxDirFor(d.sandboxDir, site));
}
