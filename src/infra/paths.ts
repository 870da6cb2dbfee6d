import * as os from "node:os";
import * as path from "node:path";

/** The Pulumi version pinned for the Node SDK and the CLI (see docs/engine.md). */
export const PULUMI_VERSION = "3.248.0";

/** Root of the repository (this file compiles to dist/src/infra/paths.js). */
export const projectRoot: string = path.resolve(__dirname, "..", "..", "..");

/** The project's local state folder: state backend, Redis data, sandbox clouds. Ignored by git. */
export function localStateDir(): string {
  return process.env.STACKYARD_STATE_DIR ?? path.join(projectRoot, ".stackyard");
}

/** Version-keyed folder under the user's home where the provisioned engine lives. */
export function engineDir(version: string = PULUMI_VERSION): string {
  const home = process.env.STACKYARD_ENGINE_HOME ?? path.join(os.homedir(), ".stackyard", "engine");
  return path.join(home, `v${version}`);
}

/** Folder holding the `pulumi` CLI and the launcher shims the Node SDK expects beside it. */
export function engineBinDir(version: string = PULUMI_VERSION): string {
  return path.join(engineDir(version), "bin");
}
