import * as fs from "node:fs";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import * as semver from "semver";
import { PULUMI_VERSION, engineBinDir, engineDir } from "../infra/paths";

/** Raised when the provisioned engine is missing: the message says how to provision it. */
export class EngineMissingError extends Error {
  readonly code = "ENGINE_MISSING";
  constructor(where: string) {
    super(
      `Pulumi CLI v${PULUMI_VERSION} not found at ${where}; run \`bash scripts/setup.sh\` to provision it`,
    );
    this.name = "EngineMissingError";
  }
}

let cached: Promise<PulumiCommand> | undefined;

/** The pinned `pulumi` CLI from the version-keyed engine folder; never downloads anything. */
export function pulumiCommand(): Promise<PulumiCommand> {
  if (!cached) {
    const cli = path.join(engineBinDir(), "pulumi");
    if (!fs.existsSync(cli)) {
      return Promise.reject(new EngineMissingError(cli));
    }
    cached = PulumiCommand.get({ root: engineDir(), version: new semver.SemVer(PULUMI_VERSION) });
    cached.catch(() => (cached = undefined));
  }
  return cached;
}
