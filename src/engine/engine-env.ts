import { engineBinDir, projectRoot } from "../infra/paths";

/** Where and how the engine keeps state for one set of stacks. */
export interface EngineSettings {
  /** Folder of the file:// state backend. */
  stateDir: string;
  /** Passphrase of the passphrase secrets provider. Never logged. */
  passphrase: string;
  /** PULUMI_HOME of the engine: plugins and workspaces. Sandbox runs use a sandbox-only home. */
  pulumiHome: string;
  /** Extra variables for the CLI and the plugins it starts (e.g. STACKYARD_SANDBOX_DIR). */
  env?: Record<string, string>;
}

/** The environment handed to the CLI; the CLI passes it on to language hosts and providers. */
export function engineEnv(settings: EngineSettings): Record<string, string> {
  const bin = engineBinDir();
  return {
    ...settings.env,
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    PULUMI_HOME: settings.pulumiHome,
    PULUMI_BACKEND_URL: `file://${settings.stateDir}`,
    PULUMI_CONFIG_PASSPHRASE: settings.passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    // The language host launcher is shared by every checkout on the machine: run this checkout's host.
    STACKYARD_PROJECT_ROOT: projectRoot,
  };
}
