import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import { hashToken, type TokenEntry } from "../../src/auth/tokens";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { siteStateSchema } from "../../src/operations/site-state";
import { find, parsePrometheus } from "../metrics/prometheus-text";
import { ApiClient } from "../workers/support/api-client";
import { dbRoles, deployBaseline, siteCloud, waitForHeld } from "../workers/support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "../workers/support/service-harness";

const METRICS_TOKEN = "svc_site-state-metrics-token-0123456789";
const metricsEntry: TokenEntry = {
  id: "prometheus",
  sha256: hashToken(METRICS_TOKEN),
  sites: ["*"],
  operations: ["*"],
  scopes: ["metrics:read"],
};

/** The port a process logged for `msg` (e.g. "metrics listening"), once it has. */
async function loggedPort(p: ServiceProcess, msg: string): Promise<number> {
  for (const until = Date.now() + 60_000; Date.now() < until;) {
    for (const line of fs.readFileSync(p.logFile, "utf8").split("\n")) {
      try {
        const j = JSON.parse(line);
        if (j.msg === msg && j.pid === p.child.pid) return j.port as number;
      } catch {
        // a line that is not JSON
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${msg}" in ${p.logFile}`);
}

describe("a site's state at a glance (GET /v1/sites/:site) on an API process beside a worker-only process", function () {
  this.timeout(900_000);
  let d: Deployment;
  let apiProc: ServiceProcess;
  let worker: ServiceProcess;
  let api: ApiClient;
  let reader: ApiClient;

  before(async () => {
    d = await createDeployment("site-state", ["theatl"]);
    const entries = [...JSON.parse(d.env.STACKYARD_TOKENS!), metricsEntry];
    d.env.STACKYARD_TOKENS = JSON.stringify(entries);
    await deployBaseline(d, "theatl");
    apiProc = await spawnService(d, "api", "api");
    worker = await spawnService(d, "worker", "worker", { STACKYARD_METRICS_PORT: "0" });
    api = new ApiClient(`http://127.0.0.1:${apiProc.port}`, d.adminToken);
    reader = new ApiClient(`http://127.0.0.1:${apiProc.port}`, METRICS_TOKEN);
  });

  after(async () => {
    siteCloud(d, "theatl").releaseHold();
    await apiProc?.stop();
    await worker?.stop();
    await d?.cleanup();
  });

  it("after an operation: revisions, the pools as deployed, the database topology as the sandbox reports it, the offered operations and the last operation", async () => {
    const done = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(done.status, "succeeded", done.reason);
    const r = await api.get("/v1/sites/theatl");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const s = siteStateSchema.parse(r.body);
    assert.deepEqual(s.revision, { desired: 1, deployed: 1, differ: false });
    assert.equal(s.configRevision, 1, "the fields earlier clients read are still there");
    assert.ok(s.sidekiq.available);
    assert.deepEqual(
      s.sidekiq.pools.map((p) => [p.name, p.count, p.deployedCount, p.queues.join(",")]),
      [["main", 3, 3, "default,push,ingress,mailers,pull"]],
    );
    assert.deepEqual(s.sidekiq.scheduler.queues, ["scheduler"]);
    assert.ok(s.database.available);
    // The roles the simulated cloud holds, as the failover gates read them.
    const roles = dbRoles(siteCloud(d, "theatl"), "theatl");
    assert.equal(roles["pg-a"], "primary");
    assert.equal(s.database.primary.name, "pg-a");
    assert.equal(s.database.primary.observed?.role, "primary");
    assert.deepEqual(
      s.database.standbys.map((n) => [n.name, n.observed?.role, n.lagSeconds]),
      [["pg-b", roles["pg-b"], 0]],
    );
    assert.deepEqual(s.database.fenced, []);
    assert.deepEqual(s.database.observation, { ok: true });
    assert.deepEqual(
      s.operations.map((o) => o.kind),
      [
        "scale-sidekiq",
        "add-read-replica",
        "remove-read-replica",
        "failover",
        "detect-drift",
        "revert-drift",
      ],
    );
    const scale = s.operations.find((o) => o.kind === "scale-sidekiq")!;
    assert.equal((scale.params as any).properties.count.type, "integer", "the params' JSON Schema");
    assert.equal(s.last?.id, done.id);
    assert.equal(s.last?.status, "succeeded");
    assert.equal(s.running, null);
    assert.deepEqual(s.queued, []);
    assert.equal(s.drift, null);

    const text = await fetch(`${api.base}/v1/sites/theatl`, {
      headers: { authorization: `Bearer ${d.adminToken}`, accept: "text/plain" },
    });
    const lines = (await text.text()).split("\n");
    assert.equal(lines[0], "theatl: config revision 1, deployed revision 1");
    assert.match(
      lines[1]!,
      /^sidekiq: main ×3 \[default,push,ingress,mailers,pull\]; scheduler \[scheduler\]$/,
    );
    assert.match(
      lines[2]!,
      /^database \(postgres\): primary pg-a \(primary\); standbys pg-b \(standby, lag 0 s\)/,
    );
  });

  it("two operations queued behind a held one carry their positions and wait estimates, in the 202, the record and the site", async () => {
    siteCloud(d, "theatl").setFaults({ hold: { method: "create", type: TYPES.droplet } });
    const since = Date.now();
    const held = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 4 },
    });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    await waitForHeld(d, since);
    // Not a second scale request: that would ride on the queued one instead of queueing.
    const first = await api.post("/v1/sites/theatl/operations", {
      operation: "add-read-replica",
      params: { name: "pg-c", size: "s-1vcpu-2gb", volumeGb: 10 },
    });
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(first.body.queue.position, 1);
    assert.equal(first.body.queue.ahead, 1, "the running one");
    const second = await api.post("/v1/sites/theatl/operations", {
      operation: "scale-sidekiq",
      params: { count: 2 },
    });
    assert.equal(second.status, 202, JSON.stringify(second.body));
    assert.equal(second.body.queue.position, 2);
    assert.equal(second.body.queue.ahead, 2);
    // One scale run succeeded before: every estimate has a basis (add-read-replica borrows it).
    assert.equal(typeof first.body.queue.estimatedWaitSeconds, "number");
    assert.ok(second.body.queue.estimatedWaitSeconds >= first.body.queue.estimatedWaitSeconds);

    const rec = await api.get(`/v1/operations/${second.body.id}`);
    assert.equal(rec.body.status, "queued");
    assert.equal(rec.body.queue.position, 2);

    const s = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    assert.equal(s.running?.id, held.body.id);
    assert.equal(s.running?.phase, "up", "held in a provider create: the update");
    assert.deepEqual(
      s.queued.map((q) => [q.id, q.kind, q.queue.position]),
      [
        [first.body.id, "add-read-replica", 1],
        [second.body.id, "scale-sidekiq", 2],
      ],
    );
    assert.equal(s.revision.differ, true, "the running operation wrote the stack file's next revision");

    // Cancel the queued ones, let the held one finish: the queue empties and positions move up.
    assert.equal((await api.post(`/v1/operations/${first.body.id}/cancel`)).status, 202);
    const moved = await api.get(`/v1/operations/${second.body.id}`);
    assert.equal(moved.body.queue.position, 1);
    assert.equal((await api.post(`/v1/operations/${second.body.id}/cancel`)).status, 202);
    siteCloud(d, "theatl").releaseHold();
    const fin = await api.waitFor(held.body.id, 300_000);
    assert.equal(fin.status, "succeeded", fin.reason);
    siteCloud(d, "theatl").clearFaults();
    const after = siteStateSchema.parse((await api.get("/v1/sites/theatl")).body);
    assert.equal(after.running, null);
    assert.deepEqual(after.queued, []);
    assert.deepEqual(after.revision, { desired: 2, deployed: 2, differ: false });
  });

  it("answers an unknown site 404 and a token without operations:read 403", async () => {
    assert.equal((await api.get("/v1/sites/nowhere")).status, 404);
    assert.equal((await reader.get("/v1/sites/theatl")).status, 403);
  });

  it("a worker-only process serves /metrics on its own port, token-protected, with the runs it did", async () => {
    const port = await loggedPort(worker, "metrics listening");
    const url = `http://127.0.0.1:${port}/metrics`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${d.adminToken}` } })).status, 403);
    const res = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    const { samples } = parsePrometheus(await res.text());
    // The two scale runs ran in this process; the API process never saw them end.
    const runs = find(samples, "stackyard_operation_duration_seconds_count", {
      kind: "scale-sidekiq",
      outcome: "succeeded",
    });
    assert.equal(runs[0]?.value, 2, JSON.stringify(runs));
    assert.equal(find(samples, "stackyard_queue_depth", { stack: "theatl", state: "waiting" })[0]?.value, 0);
    const apiSide = await fetch(`${api.base}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const apiRuns = find(
      parsePrometheus(await apiSide.text()).samples,
      "stackyard_operation_duration_seconds_count",
      {
        kind: "scale-sidekiq",
        outcome: "succeeded",
      },
    );
    assert.equal(apiRuns[0]?.value ?? 0, 0, "the API process did not run them");
  });
});
