// Process entry of a simulated provider plugin: `node plugin-main.js <package> <engine address> …`.
// The launcher that install-plugins.ts writes under the sandbox PULUMI_HOME execs this.
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

// The engine stops its plugins when it ends; an engine killed with SIGKILL cannot, and a plugin
// left behind would keep serving nobody. When our parent is gone (we were re-parented), exit.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
