import * as assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import * as digitalocean from "@pulumi/digitalocean";
import * as hcloud from "@pulumi/hcloud";
import * as k8s from "@pulumi/kubernetes";
import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import { StackSession } from "../../src/engine/stack-session";
import { TYPES } from "../../src/sandbox/sandbox-cloud";
import { Sandbox, changes, createSandbox } from "./sandbox-harness";

// The real engine and real SDK classes against the simulated clouds: up from empty, no-op up,
// refresh without drift, in-place updates versus replacements, simulated behaviour an operation
// reads, and destroy with protection.

interface Knobs {
  region: string;
  webImage: string;
  webSize: string;
  webCount: number;
  ipOn: number;
  replicas: number;
  nodeCount: number;
  protectDb: boolean;
  dbEngine: string;
}

function doProgram(k: Knobs) {
  return async () => {
    const vpc = new digitalocean.Vpc("net", { region: "nyc3", ipRange: "10.10.0.0/20" });
    const webs = Array.from(
      { length: k.webCount },
      (_, i) =>
        new digitalocean.Droplet(`web-${i}`, {
          region: "nyc3",
          size: k.webSize,
          image: k.webImage,
          vpcUuid: vpc.id,
          tags: ["site:t", "role:web"],
        }),
    );
    new digitalocean.Droplet("bastion", {
      region: k.region,
      size: "s-1vcpu-1gb",
      image: "ubuntu-24-04-x64",
      tags: ["role:bastion"],
    });
    const pgA = new digitalocean.Droplet("pg-a", {
      region: "nyc3",
      size: "s-2vcpu-4gb",
      image: "ubuntu-24-04-x64",
      tags: ["role:pg-primary"],
    });
    const pgB = new digitalocean.Droplet("pg-b", {
      region: "nyc3",
      size: "s-2vcpu-4gb",
      image: "ubuntu-24-04-x64",
      tags: ["role:pg-standby"],
    });
    new digitalocean.Firewall("web-fw", {
      tags: ["role:web"],
      inboundRules: [{ protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0"] }],
    });
    const ip = new digitalocean.ReservedIp("edge", {
      region: "nyc3",
      dropletId: webs[k.ipOn]!.id.apply(Number),
    });
    const db = new digitalocean.DatabaseCluster(
      "pg",
      {
        engine: k.dbEngine,
        version: "17",
        size: "db-s-1vcpu-1gb",
        region: "nyc3",
        nodeCount: k.nodeCount,
        privateNetworkUuid: vpc.id,
      },
      { protect: k.protectDb },
    );
    const replica = new digitalocean.DatabaseReplica("pg-read", {
      clusterId: db.id,
      size: "db-s-1vcpu-1gb",
      region: "nyc3",
    });
    const cluster = new digitalocean.KubernetesCluster("doks", {
      region: "nyc3",
      version: "1.33.1-do.0",
      vpcUuid: vpc.id,
      nodePool: { name: "default", size: "s-2vcpu-4gb", nodeCount: 3 },
    });
    const provider = new k8s.Provider("doks", {
      kubeconfig: cluster.kubeConfigs.apply((c) => c[0]!.rawConfig!),
    });
    const app = new k8s.apps.v1.Deployment(
      "sidekiq",
      {
        metadata: { namespace: "default" },
        spec: {
          replicas: k.replicas,
          selector: { matchLabels: { app: "sidekiq" } },
          template: {
            metadata: { labels: { app: "sidekiq" } },
            spec: { containers: [{ name: "sidekiq", image: "ghcr.io/mastodon/mastodon:v4.3.17" }] },
          },
        },
      },
      { provider },
    );
    return {
      ip: ip.ipAddress,
      dbHost: db.privateHost,
      dbPassword: db.password,
      replicaHost: replica.privateHost,
      app: app.metadata.name,
      pgA: pgA.id,
      pgB: pgB.id,
    };
  };
}

describe("sandbox: DigitalOcean + Kubernetes through the real engine", function () {
  let sbx: Sandbox;
  let stack: StackSession;
  const knobs: Knobs = {
    region: "nyc3",
    webImage: "ubuntu-24-04-x64",
    webSize: "s-1vcpu-1gb",
    webCount: 2,
    ipOn: 0,
    replicas: 2,
    nodeCount: 2,
    protectDb: true,
    dbEngine: "pg",
  };

  before(async () => {
    sbx = await createSandbox("do");
    stack = await sbx.open("theatl", doProgram(knobs));
  });
  after(() => sbx?.cleanup());

  it("creates every resource from empty with realistic ids, addresses and behaviour", async () => {
    const up = await stack.up();
    assert.deepEqual(changes(up.summary), { create: 14 });
    const [web0] = sbx.cloud.list(TYPES.droplet).filter((r) => r.urn.endsWith("::web-0"));
    assert.match(web0!.id, /^\d{9}$/);
    assert.equal(web0!.sim.status, "active");
    assert.match(String(web0!.outputs.ipv4Address), /^(203\.0\.113|198\.51\.100|192\.0\.2)\./);
    assert.match(String(web0!.outputs.ipv4AddressPrivate), /^10\.10\.(0|1|2|3|4|5|6|7|8|9|1[0-5])\./);
    const roles = sbx.cloud
      .dbNodes()
      .map((n) => `${n.name}:${n.role}`)
      .sort();
    assert.ok(
      roles.some((r) => /pg-a.*:primary/.test(r)) && roles.some((r) => /pg-b.*:standby/.test(r)),
      roles.join(","),
    );
    const cluster = sbx.cloud.list(TYPES.databaseCluster)[0]!;
    assert.deepEqual(
      cluster.sim.nodes!.map((n) => n.role),
      ["primary", "standby"],
    );
    assert.equal(sbx.cloud.replicasOf(cluster.id).length, 1);
    assert.equal(sbx.cloud.ipHolder(TYPES.reservedIp, String(up.outputs.ip!.value)), web0!.id);
    assert.equal(up.outputs.dbPassword!.secret, true);
    assert.ok(
      !JSON.stringify(sbx.cloud.calls()).includes(String(up.outputs.dbPassword!.value)),
      "no secret in the call log",
    );
    const dep = sbx.cloud.list(TYPES.deployment)[0]!;
    assert.match(dep.id, /^default\/sidekiq-[0-9a-f]{8}$/);
    assert.deepEqual(sbx.cloud.workloadReplicas(TYPES.deployment, dep.id), { replicas: 2, readyReplicas: 2 });
  });

  it("reports zero changes on a no-op up and zero drift on refresh", async () => {
    assert.deepEqual(changes((await stack.up()).summary), {});
    const refresh = await stack.refresh();
    assert.deepEqual(changes(refresh.summary), {});
  });

  it("updates size, replicas and nodeCount in place and moves the reserved IP", async () => {
    const before = sbx.cloud
      .list(TYPES.droplet)
      .map((r) => r.id)
      .sort();
    Object.assign(knobs, { webSize: "s-2vcpu-4gb", replicas: 4, nodeCount: 3, ipOn: 1 });
    const up = await stack.up();
    // 2 droplets resized, the deployment, the cluster and the reserved IP.
    assert.deepEqual(changes(up.summary), { update: 5 });
    assert.deepEqual(
      sbx.cloud
        .list(TYPES.droplet)
        .map((r) => r.id)
        .sort(),
      before,
    );
    const web1 = sbx.cloud.byName(TYPES.droplet, "web-1")!;
    assert.equal(web1.outputs.memory, 4096);
    assert.equal(sbx.cloud.ipHolder(TYPES.reservedIp, String(up.outputs.ip!.value)), web1.id);
    assert.equal(sbx.cloud.list(TYPES.databaseCluster)[0]!.sim.nodes!.length, 3);
    const dep = sbx.cloud.list(TYPES.deployment)[0]!;
    assert.equal(sbx.cloud.workloadReplicas(TYPES.deployment, dep.id)!.replicas, 4);
  });

  it("replaces a droplet whose region changes, and droplets whose image changes", async () => {
    const bastion = sbx.cloud.byName(TYPES.droplet, "bastion")!.id;
    Object.assign(knobs, { region: "nyc1" });
    const moved = await stack.up();
    assert.deepEqual(changes(moved.summary), { replace: 1 });
    assert.notEqual(sbx.cloud.byName(TYPES.droplet, "bastion")!.id, bastion);
    assert.equal(sbx.cloud.byName(TYPES.droplet, "bastion")!.outputs.region, "nyc1");
    assert.equal(sbx.cloud.get(TYPES.droplet, bastion), undefined, "the old droplet is deleted");

    Object.assign(knobs, { webImage: "debian-12-x64" });
    const rebuilt = await stack.up();
    // Both web droplets are replaced; the reserved IP follows its droplet's new id in place.
    assert.deepEqual(changes(rebuilt.summary), { replace: 2, update: 1 });
  });

  it("refuses to replace a protected database whose engine changes, leaving the cloud as it was", async () => {
    const id = sbx.cloud.list(TYPES.databaseCluster)[0]!.id;
    Object.assign(knobs, { dbEngine: "mysql" });
    await assert.rejects(stack.up(), /marked for protection/);
    assert.equal(sbx.cloud.list(TYPES.databaseCluster)[0]!.id, id);
    assert.equal(sbx.cloud.list(TYPES.databaseCluster)[0]!.inputs.engine, "pg");
    Object.assign(knobs, { dbEngine: "pg" });
    assert.deepEqual(changes((await stack.up()).summary), {});
  });

  it("refuses to destroy a protected database until it is unprotected", async () => {
    await assert.rejects(stack.destroy(), /protected/);
    assert.equal(sbx.cloud.list(TYPES.databaseCluster).length, 1);
    Object.assign(knobs, { protectDb: false });
    await stack.up();
    await stack.destroy();
    assert.deepEqual(sbx.cloud.countByType(), {});
  });
});

describe("sandbox: Linode, Hetzner and AWS through the real engine", function () {
  let sbx: Sandbox;
  let stack: StackSession;
  const knobs = { type: "g6-standard-2", serverType: "cx22", location: "fsn1", retention: 30 };

  before(async () => {
    sbx = await createSandbox("multi");
    stack = await sbx.open("vulpine", async () => {
      const inst = new linode.Instance("smithwicks", {
        type: knobs.type,
        region: "us-east",
        image: "linode/debian12",
        tags: ["role:allinone"],
      });
      new linode.Firewall("fw", {
        label: "vulpine-fw",
        inboundPolicy: "DROP",
        outboundPolicy: "ACCEPT",
        linodes: [inst.id.apply(Number)],
      });
      const srv = new hcloud.Server("tempo", {
        serverType: knobs.serverType,
        location: knobs.location,
        image: "debian-12",
        labels: { role: "pg-primary" },
      });
      const fip = new hcloud.FloatingIp("media", { type: "ipv4", homeLocation: "fsn1" });
      new hcloud.FloatingIpAssignment("media", {
        floatingIpId: fip.id.apply(Number),
        serverId: srv.id.apply(Number),
      });
      const bucket = new aws.s3.Bucket("media", { tags: { site: "vulpine" } });
      new aws.s3.BucketVersioning("media", {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
      new aws.cloudwatch.LogGroup("web", { name: "/vulpine/web", retentionInDays: knobs.retention });
      const who = aws.getCallerIdentityOutput();
      return {
        bucket: bucket.bucket,
        arn: bucket.arn,
        account: who.accountId,
        ip: inst.ipAddress,
        srv: srv.id,
        fip: fip.ipAddress,
        ref: pulumi.output(1),
      };
    });
  });
  after(() => sbx?.cleanup());

  it("creates, no-ops, refreshes clean, updates in place, replaces and destroys", async () => {
    const up = await stack.up();
    assert.deepEqual(changes(up.summary), { create: 9 });
    assert.match(String(up.outputs.bucket!.value), /^media-[0-9a-f]{7}$/);
    assert.equal(up.outputs.account!.value, "123456789012");
    assert.equal(sbx.cloud.dbNodes()[0]!.role, "primary");
    assert.equal(
      sbx.cloud.ipHolder(TYPES.hcloudFloatingIp, sbx.cloud.list(TYPES.hcloudFloatingIp)[0]!.id),
      String(up.outputs.srv!.value),
    );

    assert.deepEqual(changes((await stack.up()).summary), {});
    assert.deepEqual(changes((await stack.refresh()).summary), {});

    Object.assign(knobs, { type: "g6-standard-4", serverType: "cx32", retention: 90 });
    assert.deepEqual(changes((await stack.up()).summary), { update: 3 });
    Object.assign(knobs, { location: "nbg1" });
    const moved = await stack.up();
    // The server is replaced; hcloud's assignment moves the floating IP to the new server in place.
    assert.deepEqual(changes(moved.summary), { replace: 1, update: 1 });
    assert.equal(
      sbx.cloud.ipHolder(TYPES.hcloudFloatingIp, sbx.cloud.list(TYPES.hcloudFloatingIp)[0]!.id),
      String(moved.outputs.srv!.value),
    );

    await stack.destroy();
    assert.deepEqual(sbx.cloud.countByType(), {});
  });
});
