// One worker process of the benchmark: `node worker-main.js in-process|sandboxed|threads [concurrency]`,
// with the service's environment. Prints `ready <pid>` on stdout once its Worker is listening.
import * as path from "node:path";
import { Worker, type Job } from "bullmq";
import { bullConnection } from "../../src/infra/redis-endpoint";
import { loadServiceConfig } from "../../src/service/config";
import { BENCH_QUEUE, processDeps } from "./process-deps";
import { runBenchJob, type BenchJobData } from "./run-job";

/** Short locks, so a worker that died hands its jobs back within seconds (as FAST_STALLS in tests). */
const LOCK_MS = 8_000;
const STALLED_INTERVAL_MS = 4_000;

async function main(): Promise<void> {
  const mode = process.argv[2];
  const concurrency = Number(process.argv[3] ?? 2);
  if (mode !== "in-process" && mode !== "sandboxed" && mode !== "threads")
    throw new Error("mode: in-process, sandboxed or threads");
  const cfg = loadServiceConfig(process.env);
  const connection = bullConnection(cfg.redis!);
  const opts = {
    connection,
    concurrency,
    lockDuration: LOCK_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: 1,
    name: `bench-${mode}-${process.pid}`,
  };
  let close = () => undefined as void;
  let worker: Worker<BenchJobData>;
  if (mode === "in-process") {
    const built = processDeps();
    close = built.close;
    worker = new Worker<BenchJobData>(
      BENCH_QUEUE,
      (job: Job<BenchJobData>) => runBenchJob(built.deps, job.data),
      opts,
    );
  } else {
    worker = new Worker<BenchJobData>(BENCH_QUEUE, path.join(__dirname, "processor.js"), {
      ...opts,
      useWorkerThreads: mode === "threads",
    });
  }
  worker.on("error", (err) => process.stderr.write(`worker error: ${err.message}\n`));
  await worker.waitUntilReady();
  process.stdout.write(`ready ${process.pid}\n`);
  const stop = async () => {
    await worker.close();
    close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
