import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";

/** Everything the engine tells the language host about one run of the program. */
export interface ProgramRun {
  organization: string;
  project: string;
  stack: string;
  /** Working directory of the program. */
  pwd: string;
  /** Folder holding Pulumi.yaml. */
  rootDirectory: string;
  /** Path of the program's entry (a file or a folder with package.json), absolute or relative to pwd. */
  program: string;
  monitorAddress: string;
  engineAddress: string;
  dryRun: boolean;
  parallel: number;
  config: Record<string, string>;
  configSecretKeys: string[];
}

/** Exit code with which the SDK's runner says it already reported a user-facing error. */
export const EXIT_ALREADY_REPORTED = 32;

/** The Node SDK's own program runner, resolved from the program's folder as the program itself would. */
export function sdkRunner(fromDir: string): string {
  const pkg = require.resolve("@pulumi/pulumi/package.json", { paths: [fromDir] });
  return path.join(path.dirname(pkg), "cmd", "run");
}

/** Arguments of the SDK runner, in the form its flag parser reads. */
export function runnerArgs(run: ProgramRun): string[] {
  const args = [
    `--monitor=${run.monitorAddress}`,
    `--engine=${run.engineAddress}`,
    `--organization=${run.organization}`,
    `--project=${run.project}`,
    `--stack=${run.stack}`,
    `--pwd=${run.pwd}`,
    `--root-directory=${run.rootDirectory}`,
  ];
  if (run.dryRun) args.push("--dry-run");
  if (run.parallel > 0) args.push(`--parallel=${run.parallel}`);
  args.push(run.program);
  return args;
}

/** Starts the program in a child Node process; its output goes to the engine through our stdio. */
export function startProgram(run: ProgramRun): ChildProcess {
  const runner = sdkRunner(run.pwd);
  return spawn(process.execPath, [runner, ...runnerArgs(run)], {
    cwd: run.pwd,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PULUMI_CONFIG: JSON.stringify(run.config),
      PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(run.configSecretKeys),
    },
  });
}
