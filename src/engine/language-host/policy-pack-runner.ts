// Process entry of a policy pack's analyzer, as the language host starts it (plugin-run.ts):
// `node policy-pack-runner.js <the pack's SDK run-policy-pack folder> <engine address> <pack>`.
// The SDK's runner always registers ts-node (loading TypeScript) and connects to V8's inspector
// for closure serialization before it loads the pack: about 0.8 s of CPU at every engine run for a
// pack that is plain JavaScript and serializes nothing (docs/benchmarks.md). For such a pack this
// entry runs the same SDK `run()` (the pack's own SDK) with TypeScript off and no inspector hooks;
// a pack whose entry is TypeScript goes to the SDK's runner unchanged.
import "../../infra/defer-sdk-closure";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { isJavaScriptPack } from "./javascript-pack";

interface RunOptions {
  argv: { _: string[]; [flag: string]: unknown };
  programStarted(): void;
  reportLoggedError(err: Error): void;
  typeScript: boolean;
}

function main(args: string[]): void {
  const [sdkRunner, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, strict: false, allowPositionals: true });
  const [, pack] = positionals;
  if (!sdkRunner || !pack) {
    process.stderr.write(
      "usage: policy-pack-runner <SDK run-policy-pack folder> <engine address> <pack folder>\n",
    );
    process.exit(2);
  }
  if (!isJavaScriptPack(path.resolve(typeof values.pwd === "string" ? values.pwd : ".", pack))) {
    // Not ours to speed up: the SDK's runner, exactly as it would have been started.
    process.argv = [process.argv[0]!, sdkRunner, ...rest];
    require(sdkRunner);
    return;
  }
  // As the SDK's runner: an error that escapes the pack fails the process (exit 1, or 32 when the
  // pack already reported it to the engine), never a silent 0.
  const uncaught = new Set<unknown>();
  const logged = new Set<unknown>();
  let running = false;
  const onUncaught = (err: unknown) => {
    uncaught.add(err);
    if (!running) process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  process.on("exit", (code) => {
    if (code !== 0 || uncaught.size === 0) return;
    process.exitCode = [...uncaught].every((e) => logged.has(e)) ? 32 : 1;
  });
  const { run } = require(path.join(sdkRunner, "run")) as { run(o: RunOptions): Promise<void> };
  run({
    argv: { ...values, _: positionals.slice(1) },
    programStarted: () => (running = true),
    reportLoggedError: (err) => logged.add(err),
    typeScript: false,
  }).then(() => (running = false));
}

main(process.argv.slice(2));
