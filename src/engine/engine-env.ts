import { engineBinDir, projectRoot } from "../infra/paths";
import { ALL_AMBIENT_CREDENTIAL_ENV, AMBIENT_CREDENTIAL_OVERRIDES } from "../programs/credentials/clouds";
import { fileBackend, type StateBackend } from "./state-backend";

/** The service's own settings that hold the backend's key pair: never passed on to the engine. */
const BACKEND_KEY_ENV = ["STACKYARD_BACKEND_ACCESS_KEY_ID", "STACKYARD_BACKEND_SECRET_ACCESS_KEY"];

/** Where and how the engine keeps state for one set of stacks. */
export interface EngineSettings {
  /** Folder of the file:// state backend (the default when `backend` is unset). */
  stateDir: string;
  /** Where the state lives when not in `stateDir`: PULUMI_BACKEND_URL (state-backend.ts). */
  backend?: StateBackend;
  /** Passphrase of the passphrase secrets provider. Never logged. */
  passphrase: string;
  /** PULUMI_HOME of the engine: plugins and workspaces. Sandbox runs use a sandbox-only home. */
  pulumiHome: string;
  /** Extra variables for the CLI and the plugins it starts (e.g. STACKYARD_SANDBOX_DIR). */
  env?: Record<string, string>;
  /**
   * Secret config the stack must hold, set when its stack file lacks the key: top-level key
   * (`credentials:digitalocean`) → field → value. The sandbox plays the operator's
   * `pulumi config set --secret --path` with it; live mode leaves it unset (the operator sets them).
   */
  seedSecretConfig?: Record<string, Record<string, string>>;
}

/** The backend the settings name: `backend`, or the file:// folder `stateDir`. */
export function stateBackend(settings: EngineSettings): StateBackend {
  return settings.backend ?? fileBackend(settings.stateDir);
}

/**
 * The environment handed to the CLI; the CLI passes it on to language hosts and providers
 * (sdk/go/common/resource/plugin ExecPlugin: os.Environ()). Cloud credentials in the service's own
 * environment are blanked, the backend's key pair included: a site's providers get theirs from the
 * site's stack config and nowhere else (the Automation API merges process.env under these).
 * An s3:// backend is reached through this process's signing proxy (`engineBackendUrl`, in
 * backend-proxy.ts), anonymously: pass the URL it gives as `backendUrl`. No AWS key reaches the CLI.
 */
export function engineEnv(settings: EngineSettings, backendUrl?: string): Record<string, string> {
  const bin = engineBinDir();
  const backend = stateBackend(settings);
  if (backend.kind === "s3" && !backendUrl)
    throw new Error("an s3:// backend is reached through the signing proxy: pass engineBackendUrl(backend)");
  return {
    ...settings.env,
    ...Object.fromEntries(ALL_AMBIENT_CREDENTIAL_ENV.map((name) => [name, ""])),
    ...AMBIENT_CREDENTIAL_OVERRIDES,
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    PULUMI_HOME: settings.pulumiHome,
    ...Object.fromEntries(BACKEND_KEY_ENV.map((name) => [name, ""])),
    PULUMI_BACKEND_URL: backendUrl ?? backend.url,
    PULUMI_CONFIG_PASSPHRASE: settings.passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    // The language host launcher is shared by every checkout on the machine: run this checkout's host.
    STACKYARD_PROJECT_ROOT: projectRoot,
  };
}
