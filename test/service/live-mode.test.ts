import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { ModeGuardError } from "../../src/sandbox/mode-guard";
import { loadServiceConfig } from "../../src/service/config";
import { createLogger } from "../../src/infra/observability/logger";
import { startService } from "../../src/service/service";
import { tempDir } from "../support/temp-dir";

/** Pids of redis-server processes working in `dir` (redis chdirs into its --dir). */
function redisServersIn(dir: string): number[] {
  return fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return (
          fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("redis-server") &&
          fs.readlinkSync(`/proc/${p}/cwd`) === dir
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("live mode is chosen by configuration, never by accident", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => (tmp = tempDir("live-mode")));
  after(() => tmp?.remove());

  it("keeps sandbox plugins in a home of their own and uses the operator's PULUMI_HOME when live", () => {
    const stateDir = path.join(tmp.dir, "state");
    const sandbox = loadServiceConfig({ STACKYARD_STATE_DIR: stateDir });
    assert.equal(sandbox.pulumiHome, path.join(stateDir, "sandbox-home"));
    const live = loadServiceConfig({
      STACKYARD_MODE: "live",
      STACKYARD_STATE_DIR: stateDir,
      PULUMI_CONFIG_PASSPHRASE: "p",
      PULUMI_HOME: "/srv/pulumi",
    });
    assert.equal(live.pulumiHome, "/srv/pulumi");
    assert.throws(
      () => loadServiceConfig({ STACKYARD_MODE: "live", STACKYARD_STATE_DIR: stateDir }),
      /PULUMI_CONFIG_PASSPHRASE: required in live mode/,
    );
  });

  it("refuses to start live on a PULUMI_HOME holding sandbox plugins, and leaves no Redis behind", async () => {
    const stateDir = path.join(tmp.dir, "live-state");
    const home = path.join(tmp.dir, "contaminated-home");
    await installSandboxPlugins(home);
    const cfg = loadServiceConfig({
      STACKYARD_MODE: "live",
      STACKYARD_STATE_DIR: stateDir,
      STACKYARD_PULUMI_HOME: home,
      STACKYARD_PORT: "0",
      PULUMI_CONFIG_PASSPHRASE: "live-passphrase",
    });
    const logger = createLogger({ level: "error", write: () => undefined });
    await assert.rejects(startService(cfg, "all", logger), (err: unknown) => {
      assert.ok(err instanceof ModeGuardError);
      assert.match((err as Error).message, /live run refused: .* is a sandbox PULUMI_HOME/);
      return true;
    });
    assert.ok(fs.existsSync(path.join(stateDir, "redis", "redis.log")), "a private Redis was started for it");
    assert.deepEqual(redisServersIn(path.join(stateDir, "redis")), [], "and stopped again");
  });
});
