// BullMQ sandboxed processor (layout B): BullMQ forks a child per concurrent job and keeps it for
// the next one; the child builds its own RunnerDeps on its first job and keeps them.
import type { SandboxedJob } from "bullmq";
import type { RunnerDeps } from "../../src/workers/runner-deps";
import { processDeps } from "./process-deps";
import { runBenchJob, type BenchJobData, type BenchJobResult } from "./run-job";

let deps: RunnerDeps | undefined;

export default async function runInChild(job: SandboxedJob<BenchJobData>): Promise<BenchJobResult> {
  deps ??= processDeps().deps;
  return runBenchJob(deps, job.data);
}
