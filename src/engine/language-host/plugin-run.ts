import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import type * as langproto from "@pulumi/pulumi/proto/language_pb";
import { sdkRunner } from "./program-run";

/** The analyzer entry beside this module (compiled with it). */
const POLICY_PACK_RUNNER = path.join(__dirname, "policy-pack-runner.js");

/** A plugin written in Node (a policy pack, or a provider) as the engine asks for it. */
export interface PluginRun {
  /** "analyzer" for policy packs; anything else is run as a plain plugin. */
  kind: string;
  /** The plugin's folder. */
  directory: string;
  args: string[];
  env: Record<string, string>;
}

export function pluginRunFrom(req: langproto.RunPluginRequest): PluginRun {
  const info = req.getInfo();
  const directory = info?.getProgramDirectory() || req.getProgram() || req.getPwd();
  const env: Record<string, string> = {};
  for (const entry of req.getEnvList()) {
    const at = entry.indexOf("=");
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return { kind: req.getKind(), directory: path.resolve(directory), args: req.getArgsList(), env };
}

/**
 * The SDK ships one runner per plugin kind: `run-policy-pack <engine> <pack>` for analyzers and
 * `run-plugin <plugin> [args]` for the rest. An analyzer starts through this host's
 * policy-pack-runner.ts, which runs a JavaScript pack with that SDK runner's `run()` minus its
 * TypeScript and inspector start-up, and hands any other pack to the runner itself. Output is
 * piped so the host can stream it back.
 */
export function startPlugin(run: PluginRun): ChildProcess {
  const runDir = path.dirname(sdkRunner(run.directory));
  const argv =
    run.kind === "analyzer"
      ? [POLICY_PACK_RUNNER, path.join(runDir, "run-policy-pack"), ...run.args, run.directory]
      : [path.join(runDir, "run-plugin"), run.directory, ...run.args];
  return spawn(process.execPath, argv, {
    cwd: run.directory,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...run.env },
  });
}
