import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { StackSession } from "../../../src/engine/stack-session";
import { programFromStackConfig } from "../../../src/programs/program";
import { SANDBOX_PACKAGES, sdkPluginVersion } from "../../../src/sandbox/resource-specs";
import type { Deployment } from "./service-harness";

/** The sandbox run's passphrase, which the live copy of its state keeps. */
export const PASSPHRASE = "stackyard-sandbox-passphrase";

/** Every file under `dir` with the sha256 of its bytes: equal means nothing was written, added or removed. */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = createHash("sha256").update(fs.readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

/**
 * The "real" provider plugins of the live PULUMI_HOME, at the versions the SDKs ask for: each one
 * notes that it was started and fails loudly, as a missing real plugin would make the run fail.
 */
export function installTrapPlugins(home: string, startedLog: string): void {
  for (const pkg of SANDBOX_PACKAGES) {
    const { name, version } = sdkPluginVersion(pkg);
    const dir = path.join(home, "plugins", `resource-${name}-v${version}`);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `pulumi-resource-${name}`);
    fs.writeFileSync(
      file,
      `#!/bin/sh\necho ${name} >> ${JSON.stringify(startedLog)}\necho "live ${name} plugin started in a rehearsal test" >&2\nexit 1\n`,
    );
    fs.chmodSync(file, 0o755);
  }
}

/** A live-mode copy of a sandbox deployment's site: its state, workspace, a trapped PULUMI_HOME. */
export interface LiveCopy {
  dir: string;
  backend: string;
  workspace: string;
  home: string;
  /** Written by a trap plugin when started: absent means no live plugin ran. */
  started: string;
}

/**
 * Copies the state and workspace of an earlier sandbox run of `site` under `<d.dir>/live`, with a
 * PULUMI_HOME of trap plugins and a real-looking DigitalOcean token in the stack (the simulated
 * providers refuse it), and points `d.env` at it as a live-mode service.
 */
export async function liveCopyOf(d: Deployment, site: string): Promise<LiveCopy> {
  const dir = path.join(d.dir, "live");
  const live: LiveCopy = {
    dir,
    backend: path.join(dir, "backend"),
    workspace: path.join(dir, "workspace"),
    home: path.join(dir, "pulumi-home"),
    started: path.join(dir, "live-plugins-started.log"),
  };
  fs.cpSync(path.join(d.stateDir, "backend"), live.backend, { recursive: true });
  fs.cpSync(d.workspace, live.workspace, { recursive: true });
  installTrapPlugins(live.home, live.started);
  const session = await StackSession.open(
    { projectName: "stackyard", stackName: site, workDir: live.workspace, program: programFromStackConfig() },
    { stateDir: live.backend, pulumiHome: live.home, passphrase: PASSPHRASE },
  );
  await session.stack.setAllConfig(
    { "credentials:digitalocean.token": { value: `dop_v1_${"ab".repeat(32)}`, secret: true } },
    true,
  );
  const { STACKYARD_SANDBOX_DIR: _sandbox, ...env } = d.env;
  d.env = {
    ...env,
    STACKYARD_MODE: "live",
    STACKYARD_STATE_DIR: path.join(dir, "state"),
    STACKYARD_BACKEND_DIR: live.backend,
    STACKYARD_WORKSPACE: live.workspace,
    STACKYARD_PULUMI_HOME: live.home,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
  };
  return live;
}
