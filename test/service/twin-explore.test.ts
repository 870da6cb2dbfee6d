import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { sandboxDirFor } from "../../src/service/sandbox-facts";
import { ApiClient } from "../workers/support/api-client";
import { cloudSnapshot, deployBaseline, siteCloud, theatlPoolDroplets } from "../workers/support/baseline";
import { liveCopyOf, treeHashes, type LiveCopy } from "../workers/support/live-copy";
import {
  createDeployment,
  MAIN_JS,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "../workers/support/service-harness";

describe("npm start -- --twin-of=<site>: a new person explores a sandbox twin of the live site", function () {
  this.timeout(900_000);
  let d: Deployment;
  let live: LiveCopy;
  let svc: ServiceProcess | undefined;

  before(async () => {
    // theATL's live state comes from an earlier sandbox run, as in the rehearsal test.
    d = await createDeployment("twin-explore", ["theatl"]);
    await deployBaseline(d, "theatl");
    live = await liveCopyOf(d, "theatl");
  });

  after(async () => {
    await svc?.stop();
    await d?.cleanup();
  });

  const twinsRoot = () => path.join(live.dir, "state", "twins");

  it("exits non-zero naming --twin-of for a site the live service does not have, and builds nothing", () => {
    for (const [flag, site] of [
      ["--twin-of=nowhere", "nowhere"],
      ["--twin-of=vulpine", "vulpine"], // a real site, but not one this service runs
      ["--twin-of=The ATL", "The ATL"],
    ]) {
      const r = spawnSync(process.execPath, [MAIN_JS, "--role=all", flag], {
        env: { ...process.env, ...d.env },
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.equal(r.status, 2, `${flag}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--twin-of=${site}: `));
    }
    assert.equal(fs.existsSync(twinsRoot()), false, "no twin folder was made");
  });

  it("serves theATL from a kept twin: the site's resources, a scale-sidekiq that succeeds there, the live state byte-for-byte unchanged", async () => {
    const stateBefore = treeHashes(path.join(live.backend, ".pulumi"));
    const stackFile = path.join(live.workspace, "stacks", "Pulumi.theatl.yaml");
    const fileBefore = fs.readFileSync(stackFile, "utf8");
    const sandboxBefore = cloudSnapshot(siteCloud(d, "theatl"));
    const liveCloud = siteCloud(d, "theatl");
    const poolBefore = theatlPoolDroplets(liveCloud);

    svc = await spawnService(d, "all", "twin-service", {}, MAIN_JS, ["--twin-of=theatl"]);
    const api = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    const twins = fs.readdirSync(twinsRoot());
    assert.equal(twins.length, 1);
    assert.match(twins[0]!, /^theatl-\d{4}-\d\d-\d\dT/);
    const twinDir = path.join(twinsRoot(), twins[0]!);
    const twinCloud = new SandboxCloud(sandboxDirFor(path.join(twinDir, "cloud"), "theatl"));
    assert.equal(
      theatlPoolDroplets(twinCloud),
      poolBefore,
      "the twin's cloud holds the site's pool droplets",
    );

    // "Their" site: the deployment the live state records, and its databases as the twin's cloud reports them.
    const site = await api.get("/v1/sites/theatl");
    assert.equal(site.status, 200, JSON.stringify(site.body));
    const main = site.body.sidekiq.pools.find((p: { name: string }) => p.name === "main");
    assert.equal(main.deployedCount, poolBefore);
    assert.equal(site.body.database.primary.name, "pg-a");
    assert.equal(site.body.database.primary.observed.role, "primary");
    assert.ok(
      site.body.database.standbys.some(
        (s: { name: string; observed: { role: string } | null }) => s.observed?.role === "standby",
      ),
      JSON.stringify(site.body.database),
    );

    const op = await api.run("theatl", "scale-sidekiq", { count: poolBefore + 1 });
    assert.equal(op.status, "succeeded", op.reason);
    assert.equal(op.rehearsal, undefined, "an ordinary operation of the twin's service");
    assert.equal(theatlPoolDroplets(twinCloud), poolBefore + 1, "the twin's cloud grew");
    const after = await api.get("/v1/sites/theatl");
    assert.equal(
      after.body.sidekiq.pools.find((p: { name: string }) => p.name === "main").deployedCount,
      poolBefore + 1,
    );

    await svc.stop();
    svc = undefined;
    // Nothing live moved: the state, the stack file, the cloud the state came from; no live plugin ran.
    assert.deepEqual(treeHashes(path.join(live.backend, ".pulumi")), stateBefore);
    assert.equal(fs.readFileSync(stackFile, "utf8"), fileBefore);
    assert.deepEqual(cloudSnapshot(siteCloud(d, "theatl")), sandboxBefore);
    assert.equal(fs.existsSync(live.started), false, "no live provider plugin was started");
    // The twin is kept with its operation in its stack file; the operator's credential never left
    // the live stack (the twin holds the sandbox account's instead).
    assert.ok(fs.existsSync(path.join(twinDir, "twin.json")));
    const twinStack = fs.readFileSync(
      path.join(twinDir, "workspace", "stacks", "Pulumi.theatl.yaml"),
      "utf8",
    );
    assert.match(twinStack, new RegExp(`count: ${poolBefore + 1}`));
    const commits = execFileSync("git", ["log", "--format=%s"], {
      cwd: path.join(twinDir, "workspace"),
      encoding: "utf8",
    });
    assert.equal(commits.trim().split("\n").length, 2, `the twin's own history: ${commits}`);
    const liveToken = /^ {4}token:\n {6}secure: (\S+)$/m.exec(fileBefore)?.[1];
    assert.ok(liveToken, "the live stack file holds the operator's token");
    assert.equal(twinStack.includes(liveToken), false, "the live token is not in the twin");

    // Started again on the same folder, the twin is explored as it was left.
    svc = await spawnService(d, "all", "twin-service-again", {}, MAIN_JS, [
      "--twin-of=theatl",
      `--twin-dir=${twinDir}`,
    ]);
    const again = new ApiClient(`http://127.0.0.1:${svc.port}`, d.adminToken);
    const kept = await again.get("/v1/sites/theatl");
    assert.equal(
      kept.body.sidekiq.pools.find((p: { name: string }) => p.name === "main").count,
      poolBefore + 1,
    );
    assert.equal(theatlPoolDroplets(twinCloud), poolBefore + 1);
    assert.deepEqual(fs.readdirSync(twinsRoot()), twins, "no second twin was built");
    assert.deepEqual(treeHashes(path.join(live.backend, ".pulumi")), stateBefore);
  });
});
