import assert from "node:assert/strict";
import { byType, cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor } from "./support/fixtures";

const DROPLET = "digitalocean:index/droplet:Droplet";
const FIREWALL = "digitalocean:index/firewall:Firewall";
const tagsOf = (run: Run, name: string): string[] => get(run, DROPLET, name).inputs.tags;

describe("insync program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("insync"));
  });

  it("registers the 21 droplets, two VPCs, eight firewalls and the backup bucket", () => {
    assert.deepEqual(countByType(base), {
      "digitalocean:index/vpc:Vpc": 2,
      "digitalocean:index/tag:Tag": 19,
      [FIREWALL]: 8,
      [DROPLET]: 21,
      "aws:s3/bucket:Bucket": 1,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
      "aws:s3/bucketVersioning:BucketVersioning": 1,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
    });
    assert.equal(cloudResources(base).length, 54);
    assert.equal(base.outputs.dropletCount, 21);
  });

  it("keeps every droplet in NYC2 or SGP1, in its region's VPC", () => {
    const regions = new Set(byType(base, DROPLET).map((d) => d.inputs.region));
    assert.deepEqual([...regions].sort(), ["nyc2", "sgp1"]);
    assert.equal(get(base, DROPLET, "license02").inputs.region, "sgp1");
    for (const d of byType(base, DROPLET)) assert.ok(d.inputs.vpcUuid, d.name);
  });

  it("makes ct1 the only SSH entry: 58878 from admins on the bastion, 22 only from the bastion", () => {
    const bastionFw = get(base, FIREWALL, "insync-bastion-ssh");
    assert.deepEqual(bastionFw.inputs.tags, ["role:bastion"]);
    assert.deepEqual(bastionFw.inputs.inboundRules, [
      { protocol: "tcp", portRange: "58878", sourceAddresses: ["198.51.100.0/24"] },
    ]);
    const withBastionRole = byType(base, DROPLET).filter((d) => d.inputs.tags.includes("role:bastion"));
    assert.deepEqual(
      withBastionRole.map((d) => d.name),
      ["ct1"],
    );
    for (const fw of byType(base, FIREWALL)) {
      for (const r of fw.inputs.inboundRules ?? []) {
        if (r.portRange === "22") assert.deepEqual(r.sourceTags, ["role:bastion"], fw.name);
      }
    }
  });

  it("admits MySQL, Redis and beanstalkd only from tagged hosts, never from addresses", () => {
    for (const fw of byType(base, FIREWALL)) {
      for (const r of fw.inputs.inboundRules ?? []) {
        if (["3306", "6379", "11300"].includes(r.portRange)) {
          assert.equal(r.sourceAddresses, undefined, fw.name);
          assert.ok(r.sourceTags.length > 0, fw.name);
        }
      }
    }
    assert.deepEqual(get(base, FIREWALL, "insync-mysql-primary").inputs.tags, ["role:mysql-primary"]);
  });

  it("tags every droplet with site, env and role, and marks the seed's removal candidates", () => {
    for (const d of byType(base, DROPLET)) {
      assert.ok(d.inputs.tags.includes("site:insync"), d.name);
      assert.ok(
        d.inputs.tags.some((t: string) => t.startsWith("env:")),
        d.name,
      );
      assert.ok(
        d.inputs.tags.some((t: string) => t.startsWith("role:")),
        d.name,
      );
    }
    assert.ok(tagsOf(base, "drone-test").includes("env:staging"));
    assert.deepEqual(base.outputs.decommissionCandidates.sort(), [
      "dev",
      "dev02",
      "drone",
      "drone-test",
      "sendy",
      "wiki",
    ]);
    for (const n of base.outputs.decommissionCandidates)
      assert.ok(tagsOf(base, n).includes("decommission-candidate"), n);
  });

  it("adopts existing droplets without replacing them over image or user data", () => {
    for (const d of byType(base, DROPLET))
      assert.deepEqual(d.opts.ignoreChanges, ["image", "userData"], d.name);
  });

  it("protects the MySQL hosts, stateful hosts and the backup bucket", () => {
    const names = cloudResources(base)
      .filter((r) => r.opts.protect)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, [
      "ct1",
      "db",
      "db-slave02",
      "dev",
      "insync-db-backups",
      "insynchq-support",
      "redis",
      "sentry",
      "wiki",
    ]);
    assert.equal(get(base, "aws:s3/bucket:Bucket", "insync-db-backups").inputs.bucket, "insync_db_backups");
  });

  it("runs the daily backup on the replica, as the seed's db-slave02 does", () => {
    assert.ok(tagsOf(base, "db-slave02").includes("backup:automysqlbackup"));
    assert.ok(!tagsOf(base, "db").includes("backup:automysqlbackup"));
    assert.ok(tagsOf(base, "db").includes("role:mysql-primary"));
    assert.equal(base.outputs.backupNode, "db-slave02");
  });

  it("adding a replica adds exactly one droplet", async () => {
    const after = await runSite(
      configFor("insync", {
        "mysql.nodes.db-slave03": { region: "nyc2", size: "s-4vcpu-8gb" },
        "mysql.replicas": ["db-slave02", "db-slave03"],
      }),
    );
    assert.deepEqual(diffRuns(base, after), { added: [`${DROPLET}::db-slave03`], removed: [], changed: {} });
    assert.ok(tagsOf(after, "db-slave03").includes("role:mysql-standby"));
  });

  it("failover to db-slave02 retags both nodes only, and fences the old master", async () => {
    const after = await runSite(configFor("insync", { "mysql.primary": "db-slave02" }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: { [`${DROPLET}::db`]: ["tags"], [`${DROPLET}::db-slave02`]: ["tags"] },
    });
    assert.ok(tagsOf(after, "db").includes("role:mysql-fenced"));
    assert.ok(tagsOf(after, "db-slave02").includes("role:mysql-primary"));
    assert.deepEqual(
      [after.outputs.primary, after.outputs.replicas, after.outputs.fenced],
      ["db-slave02", [], ["db"]],
    );
  });

  it("exports the bastion entry, knobs and externals", () => {
    assert.deepEqual(base.outputs.endpoints.sshEntry, { host: "ct1", port: 58878 });
    assert.deepEqual([base.outputs.primary, base.outputs.replicas], ["db", ["db-slave02"]]);
    assert.ok(base.outputs.externals.some((e: any) => e.name === "apt-yum-repo-bucket"));
  });
});
