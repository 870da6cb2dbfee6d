// Process entry of a simulated provider plugin: `node plugin-main.js <package> <engine address> …`.
// The launcher that install-plugins.ts writes under the sandbox PULUMI_HOME execs this.
// First: the SDK modules a plugin never uses load on first use, not at start-up.
import "../infra/defer-sdk-closure";
import { exitWithParent } from "../infra/exit-with-parent";
import { servePackage } from "./plugin-server";

const [pkg, ...engineArgs] = process.argv.slice(2);
if (!pkg) {
  process.stderr.write("usage: plugin-main <package> <engine address>\n");
  process.exit(2);
}
servePackage(pkg, engineArgs).catch((err: Error) => {
  // stderr reaches the engine's diagnostics; stdout is reserved for the port handshake.
  process.stderr.write(`sandbox ${pkg} plugin failed to start: ${err.message}\n`);
  process.exit(1);
});

exitWithParent();
