import { fork } from "node:child_process";
import * as os from "node:os";

/**
 * Keeps every core busy (one spinning child per core) until it is stopped or `seconds` pass, so
 * concurrency and recovery tests can be run on a loaded machine:
 *   node dist/bench/cpu-burner.js [seconds] & npm test -- dist/test/workers/crash-recovery.test.js
 * The children exit with the parent.
 */
if (process.argv[2] === "--spin") {
  setInterval(() => process.connected || process.exit(0), 1000).unref();
  for (;;) {
    const until = Date.now() + 200;
    while (Date.now() < until) Math.sqrt(Math.random());
    if (!process.connected) process.exit(0);
  }
}

const seconds = Number(process.argv[2] ?? "3600");
const cores = Number(process.env.BURN_CORES ?? os.cpus().length);
const children = Array.from({ length: cores }, () => fork(__filename, ["--spin"], { stdio: "ignore" }));
const stop = () => {
  for (const c of children) c.kill("SIGKILL");
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setTimeout(stop, seconds * 1000);
console.log(`burning ${cores} core(s) for up to ${seconds} s (pid ${process.pid})`);
