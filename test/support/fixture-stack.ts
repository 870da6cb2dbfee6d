import * as fs from "node:fs";
import * as path from "node:path";
import type { PulumiFn } from "@pulumi/pulumi/automation";
import { StackSession } from "../../src/engine/stack-session";

/**
 * One stack of an inline program in a fresh project under `dir` (`project/` with its Pulumi.yaml
 * and stacks/), its state on a file backend in `state/` and its PULUMI_HOME in `home/`: the
 * engine tests' fixture, with no provider plugin.
 */
export function openFixtureStack(
  dir: string,
  target: { projectName: string; stackName: string; program: PulumiFn },
  passphrase: string,
): Promise<StackSession> {
  const workDir = path.join(dir, "project");
  fs.mkdirSync(path.join(workDir, "stacks"), { recursive: true });
  fs.writeFileSync(
    path.join(workDir, "Pulumi.yaml"),
    `name: ${target.projectName}\nruntime: nodejs\nstackConfigDir: stacks\n`,
  );
  return StackSession.open(
    { ...target, workDir },
    { stateDir: path.join(dir, "state"), pulumiHome: path.join(dir, "home"), passphrase },
  );
}
