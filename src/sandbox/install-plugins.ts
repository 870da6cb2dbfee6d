import * as fs from "node:fs";
import * as path from "node:path";
import { writeAtomic } from "./cloud-store";
import { LAUNCHER_SIGNATURE, SANDBOX_MARKER } from "./mode-guard";
import { SANDBOX_PACKAGES, sdkPluginVersion } from "./resource-specs";

// Installs the simulated providers under a sandbox-only PULUMI_HOME, at exactly the plugin name
// and version each installed SDK asks for, so the engine loads them in place of the real ones
// (it never downloads: the plugin is already "installed"). Each plugin is a small shell launcher
// carrying LAUNCHER_SIGNATURE, which lets mode-guard.ts recognise it in a live home.
// Idempotent: rewriting the same files gives the same result.

export const PLUGIN_MAIN = path.join(__dirname, "plugin-main.js");

export interface InstalledPlugin {
  name: string;
  version: string;
  path: string;
}

export async function installSandboxPlugins(pulumiHome: string): Promise<void> {
  installSandboxPluginsSync(pulumiHome);
}

export function installSandboxPluginsSync(pulumiHome: string): InstalledPlugin[] {
  if (!fs.existsSync(PLUGIN_MAIN))
    throw new Error(`sandbox: ${PLUGIN_MAIN} is missing; build with \`npx tsc -p tsconfig.json\` first`);
  const installed: InstalledPlugin[] = [];
  for (const pkg of SANDBOX_PACKAGES) {
    const { name, version } = sdkPluginVersion(pkg);
    const dir = path.join(pulumiHome, "plugins", `resource-${name}-v${version}`);
    fs.mkdirSync(dir, { recursive: true });
    // A leftover .partial marker would make the engine treat the plugin as half-installed.
    fs.rmSync(`${dir}.partial`, { force: true });
    const file = path.join(dir, `pulumi-resource-${name}`);
    writeAtomic(file, launcher(name));
    fs.chmodSync(file, 0o755);
    installed.push({ name, version, path: file });
  }
  const marker = {
    sandbox: true,
    note: "stackyard sandbox PULUMI_HOME: simulated providers only",
    plugins: installed.map(({ name, version }) => ({ name, version })),
  };
  writeAtomic(path.join(pulumiHome, SANDBOX_MARKER), JSON.stringify(marker, null, 2));
  return installed;
}

function launcher(name: string): string {
  return [
    "#!/bin/sh",
    LAUNCHER_SIGNATURE,
    `# Simulated ${name} provider (src/sandbox); never talks to a cloud.`,
    `exec node ${JSON.stringify(PLUGIN_MAIN)} ${name} "$@"`,
    "",
  ].join("\n");
}
