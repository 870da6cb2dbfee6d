// A benchmark worker process: runs one layout with the stub runner until SIGTERM (graceful) or
// SIGKILL (the crash the test makes). Tells its parent over IPC once it takes jobs.
import IORedis from "ioredis";
import { exitWithParent } from "../../src/infra/exit-with-parent";
import { PerStackWorkers } from "./per-stack-layout";
import { StackTurns } from "../../src/workers/stack-turns";
import { stubRunner } from "./stub-runner";
import { stackName, workerConfigFromEnv } from "./worker-config";

async function main(): Promise<void> {
  exitWithParent();
  const { url, config: c } = workerConfigFromEnv(process.env);
  const redis = new IORedis(url, { maxRetriesPerRequest: null, connectionName: c.tag });
  redis.on("error", () => undefined);
  const runner = stubRunner(redis, c.tag, c.minMs, c.maxMs);
  let close: () => Promise<void>;
  if (c.layout === "turns") {
    const turns = new StackTurns(redis, c);
    // A failed turn is retried (the default lost-turn policy): the stub has no ledger to end it in.
    await turns.startWorker(runner, { slots: c.slots, name: c.tag });
    close = () => turns.close();
  } else {
    const stacks = Array.from({ length: c.stacks }, (_, i) => stackName(i));
    const workers = new PerStackWorkers({ url, connectionName: c.tag }, stacks);
    await workers.start(runner, c.tag, c.lockDurationMs, c.stalledIntervalMs);
    close = () => workers.close();
  }
  process.once("SIGTERM", () => {
    void close()
      .then(() => redis.quit())
      .finally(() => process.exit(0));
  });
  process.send?.({ ready: true });
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
