// Property-based fuzzing of the API from its own OpenAPI document (not a test, not in CI):
//   bash bench/fuzz-api.sh [max-examples]      (makes bench/.venv with schemathesis from PyPI, then runs this)
// Starts a sandbox API process (`--role=api`, no workers: accepted operations just queue) on a
// private Redis with an admin token, and runs `schemathesis run --checks all` against it.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { createDeployment, projectRoot, spawnService } from "../test/workers/support/service-harness";

async function main(): Promise<void> {
  const maxExamples = process.argv[2] ?? "50";
  const d = await createDeployment("fuzz", ["vulpine", "chitter", "theatl", "insync", "datafruits"]);
  // The fuzzer sends thousands of requests with one token: lift the budget so it tests the contract, not the limiter.
  const svc = await spawnService(d, "api", "fuzz-api", {
    STACKYARD_RATE_LIMIT_REQUESTS: "1000000",
  });
  const base = `http://127.0.0.1:${svc.port}`;
  try {
    const st = path.join(projectRoot, "bench", ".venv", "bin", "schemathesis");
    const args = [
      "--config-file",
      path.join(projectRoot, "bench", "schemathesis.toml"),
      "run",
      `${base}/v1/openapi.json`,
      "--checks",
      "all",
      "-n",
      maxExamples,
      "--seed",
      "12",
      "-H",
      `Authorization: Bearer ${d.adminToken}`,
      "--workers",
      "1",
      "--report",
      "junit",
      "--report-dir",
      path.join(d.dir, "report"),
    ];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(st, args, {
        stdio: "inherit",
        env: { ...process.env, SCHEMATHESIS_TELEMETRY: "false" },
      });
      child.once("exit", resolve);
    });
    process.exitCode = code ?? 1;
  } finally {
    await svc.stop();
    await d.cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
