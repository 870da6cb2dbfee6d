import * as fs from "node:fs";
import * as path from "node:path";
import { PulumiFn } from "@pulumi/pulumi/automation";
import { StackSession } from "../../src/engine/stack-session";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { SITE_IDS, type SiteId } from "../../src/programs/site-config";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { tempDir } from "../support/temp-dir";

const isSiteId = (name: string): name is SiteId => (SITE_IDS as readonly string[]).includes(name);

// One sandbox for one test: a fresh simulated cloud, a sandbox-only PULUMI_HOME with the simulated
// plugins, a file:// state backend, and a stack of an inline program bound to all three.

export interface Sandbox {
  root: string;
  cloud: SandboxCloud;
  pulumiHome: string;
  env: Record<string, string>;
  open(
    stackName: string,
    program: PulumiFn,
    opts?: { projectName?: string; workDir?: string },
  ): Promise<StackSession>;
  cleanup(): void;
}

export async function createSandbox(prefix = "sbx"): Promise<Sandbox> {
  const tmp = tempDir(prefix);
  const root = tmp.dir;
  const pulumiHome = path.join(root, "pulumi-home");
  const cloudDir = path.join(root, "cloud");
  const stateDir = path.join(root, "state");
  for (const d of [pulumiHome, cloudDir, stateDir]) fs.mkdirSync(d, { recursive: true });
  await installSandboxPlugins(pulumiHome);
  const env = { STACKYARD_SANDBOX_DIR: cloudDir, PULUMI_DIY_BACKEND_RETAIN_CHECKPOINTS: "false" };
  return {
    root,
    pulumiHome,
    env,
    cloud: new SandboxCloud(cloudDir),
    async open(stackName, program, opts = {}) {
      const workDir = opts.workDir ?? path.join(root, `work-${stackName}`);
      fs.mkdirSync(workDir, { recursive: true });
      return StackSession.open(
        { projectName: opts.projectName ?? "sbxtest", stackName, workDir, program },
        {
          stateDir,
          passphrase: "test",
          pulumiHome,
          env,
          // A stack named after a site holds that site's (sandbox) account credentials, as its operator's would.
          ...(isSiteId(stackName) ? { seedSecretConfig: sandboxSiteCredentials(stackName) } : {}),
        },
      );
    },
    cleanup: tmp.remove,
  };
}

/** Counts of an engine summary's resource changes, without the `same` entry. */
export function changes(summary: { resourceChanges?: Record<string, number> }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(summary.resourceChanges ?? {})) if (k !== "same" && v > 0) out[k] = v;
  return out;
}
