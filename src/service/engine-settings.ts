import type { EngineSettings } from "../engine/engine-env";
import type { SiteId } from "../programs/site-config";
import { sandboxSiteCredentials } from "../sandbox/site-credentials";
import type { ServiceConfig } from "./config";
import { sandboxDirFor } from "./sandbox-facts";

/**
 * The engine settings of each site's stack for a service configuration. Live stacks hold their
 * operators' credentials; the sandbox gives each site its own simulated cloud and fake account.
 */
export function engineSettingsFor(
  cfg: Pick<ServiceConfig, "mode" | "backendDir" | "backend" | "passphrase" | "pulumiHome" | "sandboxDir">,
): (site: string) => EngineSettings {
  const env = (site: string): Record<string, string> =>
    cfg.mode === "sandbox" ? { STACKYARD_SANDBOX_DIR: sandboxDirFor(cfg.sandboxDir, site) } : {};
  return (site) => ({
    stateDir: cfg.backendDir,
    backend: cfg.backend,
    passphrase: cfg.passphrase,
    pulumiHome: cfg.pulumiHome,
    env: env(site),
    ...(cfg.mode === "sandbox" ? { seedSecretConfig: sandboxSiteCredentials(site as SiteId) } : {}),
  });
}
