import * as pulumi from "@pulumi/pulumi";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { siteProviders } from "./credentials/site-providers";
import { assertConfigRevisionCurrent } from "./revision-guard";
import { CONFIG_NAMESPACE, parseSiteConfig, SiteConfigError, type SiteConfig } from "./site-config";
import { definitionFor } from "./sites";

/**
 * Runs the program of `config.site`. A pure function of the validated config: the same config gives
 * the same resources whether the engine runs it inline (Automation API) or from `pulumi up`.
 * `opts` reaches every resource through the site's root component (tests pass transformations).
 *
 * Every resource gets its cloud through the site's own explicit providers, configured from the
 * stack's `credentials:<cloud>` secrets: a site's account is reached only with its own credentials.
 */
export async function siteProgram(
  config: SiteConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const definition = definitionFor(config);
  const providers = siteProviders(config.site, definition.clouds, config.spec);
  return definition.program(config, { ...opts, providers });
}

/** Number-looking strings become numbers: `pulumi config set stackyard:configRevision 3` stores "3". */
function scalar(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/**
 * Reads the `stackyard:*` keys of the current stack, unvalidated. Structured values arrive as JSON
 * text; a value that is not JSON is reported against its key.
 */
export function readStackConfig(
  cfg: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE),
): Record<string, unknown> {
  const rawSpec = cfg.get("spec");
  let spec: unknown;
  if (rawSpec !== undefined) {
    try {
      spec = JSON.parse(rawSpec);
    } catch {
      throw new SiteConfigError(
        `${CONFIG_NAMESPACE}:spec: expected a structured object, got ${JSON.stringify(rawSpec.slice(0, 80))}`,
      );
    }
  }
  return { site: cfg.get("site"), configRevision: scalar(cfg.get("configRevision")), spec };
}

/**
 * The PulumiFn both paths run: it reads `pulumi.Config("stackyard")` once, validates it before any
 * resource is registered, then dispatches to the site's program.
 *
 * `guardRevision` (the laptop entry sets it) first refuses a stack file older than the revision
 * the stack last deployed, before any resource is registered, so `pulumi up` from a stale checkout
 * stops with no change instead of undoing operations the service applied. It reads the deployed
 * revision through a StackReference to the stack itself, which is a read, not a cloud resource.
 * The service checks the same condition before it plans, so its inline runs leave it off.
 */
export function programFromStackConfig(opts: { guardRevision?: boolean } = {}): PulumiFn {
  return async () => {
    const config = parseSiteConfig(readStackConfig());
    if (opts.guardRevision) await assertConfigRevisionCurrent(config.configRevision);
    return siteProgram(config);
  };
}
