import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { hashToken } from "../../src/auth/tokens";
import { reveal } from "../../src/sandbox/property-values";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./support/api-client";
import { deployBaseline, siteCloud } from "./support/baseline";
import {
  adminTokenEntry,
  approverTokenEntry,
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "./support/service-harness";

const FIREWALL = "digitalocean:index/firewall:Firewall";

/** A loopback chat webhook: keeps every JSON body posted to it. */
async function chatCatcher(): Promise<{
  port: number;
  posts: Array<{ text: string }>;
  close(): Promise<void>;
}> {
  const posts: Array<{ text: string }> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        posts.push(JSON.parse(body));
      } catch {
        posts.push({ text: `unparsable: ${body}` });
      }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    posts,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("drift on theATL: found by the schedule, posted, counted, reverted; named by a refused scale", function () {
  this.timeout(1_800_000);
  let d: Deployment;
  let svc: ServiceProcess;
  let api: ApiClient;
  let approver: ApiClient;
  let prometheus: ApiClient;
  let cloud: SandboxCloud;
  let chat: Awaited<ReturnType<typeof chatCatcher>>;

  /** The first detect-drift the site's schedule started after `since` that has finished (and that `accept` takes). */
  const scheduledDetection = (since: number, what: string, accept: (rec: any) => boolean = () => true) =>
    until(what, async () => {
      const h = await api.get("/v1/sites/theatl/operations?limit=200");
      const finished = (h.body.operations as any[])
        .filter(
          (o) =>
            o.kind === "detect-drift" &&
            Date.parse(o.createdAt) > since &&
            String(o.requester?.via ?? "").startsWith("schedule:") &&
            !o.coalescedInto &&
            ["succeeded", "failed"].includes(o.status),
        )
        .reverse();
      for (const o of finished) {
        const rec = (await api.get(`/v1/operations/${o.id}`)).body;
        if (accept(rec)) return rec;
      }
      return undefined;
    });

  const metric = async (line: RegExp) => {
    const m = await prometheus.get("/metrics");
    assert.equal(m.status, 200);
    return line.exec(String(m.body))?.[1];
  };

  before(async () => {
    chat = await chatCatcher();
    d = await createDeployment("drift-e2e", ["theatl"]);
    const driftFile = path.join(d.dir, "drift.json");
    fs.writeFileSync(
      driftFile,
      JSON.stringify({
        theatl: {
          cron: "*/5 * * * * *",
          remediate: "revert",
          chatUrl: `http://127.0.0.1:${chat.port}/drift`,
        },
      }),
    );
    const metricsToken = `svc_${randomBytes(24).toString("base64url")}`;
    Object.assign(d.env, {
      STACKYARD_DRIFT_FILE: driftFile,
      STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS: "5",
      STACKYARD_SANDBOX_REPLY_PORTS: String(chat.port),
      STACKYARD_TOKENS: JSON.stringify([
        adminTokenEntry(d.adminToken),
        approverTokenEntry(d.approverToken),
        { id: "prometheus", sha256: hashToken(metricsToken), sites: ["*"], scopes: ["metrics:read"] },
      ]),
    });
    await deployBaseline(d, "theatl");
    svc = await spawnService(d, "all", "service");
    const base = `http://127.0.0.1:${svc.port}`;
    api = new ApiClient(base, d.adminToken);
    approver = new ApiClient(base, d.approverToken);
    prometheus = new ApiClient(base, metricsToken);
    cloud = siteCloud(d, "theatl");
  });

  after(async () => {
    await svc?.stop();
    await chat?.close();
    await d?.cleanup();
  });

  it("reports exactly a resized droplet and a hand-added firewall rule, posts and counts them, and an approved revert-drift puts the cloud back", async () => {
    // Before anything changed, the schedule's detection finds nothing (no false drift from the refresh).
    const clean = await scheduledDetection(0, "a first scheduled detection");
    assert.equal(clean.status, "succeeded", clean.reason);
    assert.equal(clean.drift.resources, 0, JSON.stringify(clean.drift));

    const web = cloud.list(TYPES.droplet, "theatl").find((r) => /web/.test(r.urn.split("::").pop()!))!;
    assert.ok(web, "theATL has a web droplet");
    const webName = web.urn.split("::").pop()!;
    const oldSize = String(reveal(web.inputs.size));
    const newSize = oldSize === "s-8vcpu-16gb" ? "s-4vcpu-8gb" : "s-8vcpu-16gb";
    const fw = cloud.list(FIREWALL, "theatl").find((r) => Array.isArray(reveal(r.inputs.inboundRules)))!;
    const fwName = fw.urn.split("::").pop()!;
    const oldRules = reveal(fw.inputs.inboundRules) as unknown[];
    const sshFromAnywhere = { protocol: "tcp", portRange: "22", sourceAddresses: ["0.0.0.0/0"] };

    cloud.changeOutOfBand(TYPES.droplet, web.id, { size: newSize });
    cloud.changeOutOfBand(FIREWALL, fw.id, { inboundRules: [...oldRules, sshFromAnywhere] });
    const t0 = Date.now();

    const found = await scheduledDetection(
      t0,
      "a scheduled detection that sees the drift",
      (r) => r.drift?.resources > 0,
    );
    assert.equal(found.status, "succeeded", found.reason);
    assert.equal(found.drift.resources, 2);
    assert.deepEqual(
      found.drift.drifted.map((x: any) => `${x.name} ${x.property}`).sort(),
      [`${fwName} inboundRules`, `${webName} size`].sort(),
    );
    const size = found.drift.drifted.find((x: any) => x.property === "size");
    assert.equal(size.expected, oldSize);
    assert.equal(size.found, newSize);
    const rules = found.drift.drifted.find((x: any) => x.property === "inboundRules");
    assert.equal((rules.found as unknown[]).length, oldRules.length + 1);
    assert.deepEqual(found.drift.deleted, []);
    assert.equal(found.drift.remediation, "revert-requested");

    // The site's latest report, the chat post and the metrics say the same.
    const latest = await api.get("/v1/sites/theatl/drift");
    assert.equal(latest.status, 200);
    assert.ok(latest.body.drift.resources >= 1);
    assert.equal(latest.body.schedule.cron, "*/5 * * * * *");
    const post = await until("a chat post naming the drift", async () =>
      chat.posts.find((p) => p.text.includes(webName) && p.text.includes(fwName)),
    );
    assert.match(post.text, new RegExp(`droplet ${webName} size drifted ${oldSize} → ${newSize}`));
    assert.match(post.text, new RegExp(`firewall ${fwName} inboundRules drifted`));
    assert.equal(await metric(/^stackyard_drifted_resources\{stack="theatl"\} (\d+)$/m), "2");
    assert.ok(
      Number(await metric(/^stackyard_drift_detections_total\{stack="theatl",result="drifted"\} (\d+)$/m)) >=
        1,
    );

    // remediate: revert asked for one revert-drift (as the drift principal); a second principal approves it.
    const waiting = await until("a revert-drift awaiting approval", async () => {
      const h = await api.get("/v1/sites/theatl/operations?limit=100");
      return (h.body.operations as any[]).find(
        (o: any) => o.kind === "revert-drift" && o.status === "awaiting-approval",
      );
    });
    assert.equal(waiting.requester.tokenId, "system:drift");
    assert.deepEqual([...waiting.params.resources].sort(), [fw.urn, web.urn].sort());
    const a = await approver.post(`/v1/operations/${waiting.id}/approve`);
    assert.equal(a.status, 202, JSON.stringify(a.body));
    const reverted = await api.waitFor(waiting.id);
    assert.equal(reverted.status, "succeeded", reverted.reason);
    // Exactly the two drifted resources change; anything else is only waiting on their outputs (unknown in a preview).
    const changed = reverted.preview.steps.filter((s: any) => s.op !== "same");
    assert.deepEqual(
      changed
        .filter((s: any) => !s.unknownOnly)
        .map((s: any) => `${s.op} ${s.urn}`)
        .sort(),
      [`update ${fw.urn}`, `update ${web.urn}`].sort(),
    );
    assert.ok(
      changed.every((s: any) => !s.unknownOnly || s.op === "update"),
      JSON.stringify(changed),
    );
    assert.deepEqual(reverted.result.resourceChanges.update, 2, JSON.stringify(reverted.result));
    assert.equal(reveal(cloud.get(TYPES.droplet, web.id)!.inputs.size), oldSize);
    assert.deepEqual(reveal(cloud.get(FIREWALL, fw.id)!.inputs.inboundRules), oldRules);

    const after = await scheduledDetection(Date.parse(reverted.finishedAt), "a detection after the revert");
    assert.equal(after.status, "succeeded", after.reason);
    assert.equal(after.drift.resources, 0, JSON.stringify(after.drift));
    assert.equal(await metric(/^stackyard_drifted_resources\{stack="theatl"\} (\d+)$/m), "0");

    // On demand: POST /v1/sites/:site/drift queues an ordinary detect-drift, answered like any operation.
    const bad = await api.post("/v1/sites/theatl/drift", { remediate: "revert" });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    assert.equal(bad.body.error.details.field, "remediate");
    const asked = await api.post("/v1/sites/theatl/drift");
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.headers.get("location"), `/v1/operations/${asked.body.id}`);
    assert.equal(asked.body.operation, "detect-drift");
    assert.equal(asked.body.links.drift, "/v1/sites/theatl/drift");
    const onDemand = await api.waitFor(asked.body.id);
    assert.equal(onDemand.status, "succeeded", onDemand.reason);
    assert.equal(onDemand.requester.tokenId, "admin");
    assert.equal(onDemand.drift.resources, 0, JSON.stringify(onDemand.drift));
  });

  it("refuses a scale by blast radius while a droplet has drifted, and the refusal names the drift", async () => {
    const web = cloud.list(TYPES.droplet, "theatl").find((r) => /web/.test(r.urn.split("::").pop()!))!;
    const webName = web.urn.split("::").pop()!;
    const oldSize = String(reveal(web.inputs.size));
    const newSize = oldSize === "s-8vcpu-16gb" ? "s-4vcpu-8gb" : "s-8vcpu-16gb";
    const droplets = cloud.list(TYPES.droplet, "theatl").length;
    cloud.changeOutOfBand(TYPES.droplet, web.id, { size: newSize });
    const t1 = Date.now();
    const seen = await scheduledDetection(
      t1,
      "a detection that sees the resize",
      (r) => r.drift?.resources > 0,
    );
    assert.deepEqual(
      seen.drift.drifted.map((x: any) => `${x.name} ${x.property}`),
      [`${webName} size`],
    );

    const scale = await api.run("theatl", "scale-sidekiq", { count: 3 });
    assert.equal(scale.status, "failed");
    assert.equal(scale.failure.code, "BLAST_RADIUS_EXCEEDED");
    const drifted = new RegExp(`droplet ${webName} size drifted ${oldSize} → ${newSize} out of band`);
    assert.match(scale.reason, drifted);
    assert.match(scale.reason, /revert-drift/);
    const refusal = scale.refusals.find((r: any) => r.rule === "blast-radius" && r.value.includes(web.urn));
    assert.ok(refusal, JSON.stringify(scale.refusals));
    assert.match(refusal.message, drifted);
    assert.equal(cloud.list(TYPES.droplet, "theatl").length, droplets, "no droplet was created");
    assert.equal(
      reveal(cloud.get(TYPES.droplet, web.id)!.inputs.size),
      newSize,
      "the scale did not revert it either",
    );

    // The pending revert of this drift is left to nobody: cancel it.
    const h = await api.get("/v1/sites/theatl/operations?limit=100");
    for (const o of h.body.operations as any[])
      if (o.kind === "revert-drift" && o.status === "awaiting-approval")
        await api.post(`/v1/operations/${o.id}/cancel`);
  });
});
