import assert from "node:assert/strict";
import { byType, cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor, rawConfig, setSpec } from "./support/fixtures";
import { admits, openPorts } from "./support/do-firewall";
import { parseSiteConfig } from "../../src/programs/site-config";

const DROPLET = "digitalocean:index/droplet:Droplet";
const FIREWALL = "digitalocean:index/firewall:Firewall";
const DNS = "digitalocean:index/dnsRecord:DnsRecord";
const tagsOf = (run: Run, name: string): string[] => get(run, DROPLET, name).inputs.tags;
const firewalls = (run: Run) => byType(run, FIREWALL);
/** Whether droplet `from` may connect to droplet `to` on `port`, as DigitalOcean's firewalls decide. */
const reaches = (run: Run, from: string, to: string, port: number) =>
  admits(firewalls(run), tagsOf(run, to), port, { tags: tagsOf(run, from) });
const fromInternet = (run: Run, to: string, port: number) =>
  admits(firewalls(run), tagsOf(run, to), port, { address: "192.0.2.77" });
const fromAdmins = (run: Run, to: string, port: number) =>
  admits(firewalls(run), tagsOf(run, to), port, { address: "198.51.100.20" });
const CONF_PORT = 8000;

describe("insync program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("insync"));
  });

  it("registers the 21 droplets, two VPCs, ten firewalls, the private DNS zone and the backup bucket", () => {
    assert.deepEqual(countByType(base), {
      "digitalocean:index/vpc:Vpc": 2,
      "digitalocean:index/tag:Tag": 21,
      [FIREWALL]: 10,
      [DROPLET]: 21,
      "digitalocean:index/domain:Domain": 1,
      [DNS]: 2,
      "aws:s3/bucket:Bucket": 1,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
      "aws:s3/bucketVersioning:BucketVersioning": 1,
    });
    assert.equal(cloudResources(base).length, 60);
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

  it("adding a replica adds exactly one droplet and its db-replica record", async () => {
    const after = await runSite(
      configFor("insync", {
        "mysql.nodes.db-slave03": { region: "nyc2", size: "s-4vcpu-8gb" },
        "mysql.replicas": ["db-slave02", "db-slave03"],
      }),
    );
    assert.deepEqual(diffRuns(base, after), {
      added: [`${DNS}::insync-mysql-db-replica-db-slave03`, `${DROPLET}::db-slave03`],
      removed: [],
      changed: {},
    });
    assert.ok(tagsOf(after, "db-slave03").includes("role:mysql-standby"));
  });

  it("failover to db-slave02 retags both nodes only, and fences the old master", async () => {
    const after = await runSite(configFor("insync", { "mysql.primary": "db-slave02" }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: {
        [`${DNS}::insync-mysql-db-primary`]: ["value"],
        [`${DROPLET}::db`]: ["tags"],
        [`${DROPLET}::db-slave02`]: ["tags"],
      },
    });
    assert.ok(tagsOf(after, "db").includes("role:mysql-fenced"));
    assert.ok(tagsOf(after, "db-slave02").includes("role:mysql-primary"));
    assert.deepEqual(
      [after.outputs.primary, after.outputs.replicas, after.outputs.fenced],
      ["db-slave02", [], ["db"]],
    );
  });

  it("exports the bastion entry, knobs and externals", () => {
    assert.deepEqual(base.outputs.endpoints.sshEntry, { host: "ct1", port: 58878, auth: "keys-only" });
    assert.deepEqual([base.outputs.primary, base.outputs.replicas], ["db", ["db-slave02"]]);
    assert.ok(base.outputs.externals.some((e: any) => e.name === "apt-yum-repo-bucket"));
  });

  describe("the app keeps its database across a failover", () => {
    it("web and the mailers reach the primary by db-primary.int.insynchq.com, which follows the failover", async () => {
      assert.equal(base.outputs.dbPrimaryHost, "db-primary.int.insynchq.com");
      const record = (run: Run) => get(run, DNS, "insync-mysql-db-primary").inputs;
      assert.equal(record(base).domain, "int.insynchq.com");
      assert.equal(record(base).value, base.outputs.primaryPrivateIp);
      const after = await runSite(configFor("insync", { "mysql.primary": "db-slave02" }));
      assert.equal(record(after).value, after.outputs.primaryPrivateIp);
      assert.notEqual(record(after).value, record(base).value);
      // The name now leads to a host the firewalls let the app reach; the fenced old primary is cut.
      for (const app of ["web02", "web-lb02", "beanstalkd"]) {
        assert.ok(reaches(after, app, "db-slave02", 3306), app);
        assert.ok(!reaches(after, app, "db", 3306), app);
      }
    });

    it("the mailers on the beanstalkd host keep MySQL and Redis access", () => {
      assert.ok(reaches(base, "beanstalkd", "db", 3306));
      assert.ok(reaches(base, "beanstalkd", "redis", 6379));
      assert.ok(!reaches(base, "wiki", "db", 3306));
    });

    it("keeps DigitalOcean backups on for every database host, an added replica too", async () => {
      for (const n of ["db", "db-slave02"]) assert.equal(get(base, DROPLET, n).inputs.backups, true, n);
      const after = await runSite(
        configFor("insync", {
          "mysql.nodes.db-slave03": { region: "nyc2", size: "s-4vcpu-8gb" },
          "mysql.replicas": ["db-slave02", "db-slave03"],
        }),
      );
      assert.equal(get(after, DROPLET, "db-slave03").inputs.backups, true);
    });
  });

  describe("firewalls keep the live services reachable, and no more", () => {
    it("web, the license backends and the mailers reach ct1's conf server", () => {
      for (const app of ["web02", "web-lb02", "license01", "license02", "beanstalkd"])
        assert.ok(reaches(base, app, "ct1", CONF_PORT), app);
      assert.ok(!reaches(base, "wiki", "ct1", CONF_PORT));
      assert.ok(!fromInternet(base, "ct1", CONF_PORT));
    });

    it("radar-2, drone and drone-test accept their HTTP(S) traffic", () => {
      for (const n of ["radar-2", "drone", "drone-test"]) {
        assert.ok(fromInternet(base, n, 443), n);
        assert.ok(openPorts(firewalls(base), tagsOf(base, n)).length > 0, n);
      }
    });

    it("dev's private PyPI and hg answer the site's hosts and the admins, never the Internet", () => {
      for (const port of [80, 443]) {
        assert.ok(!fromInternet(base, "dev", port), String(port));
        assert.ok(fromAdmins(base, "dev", port), String(port));
        assert.ok(reaches(base, "web02", "dev", port), String(port));
        assert.ok(reaches(base, "drone", "dev", port), String(port));
      }
      assert.ok(!base.outputs.endpoints.publicHosts.some((h: any) => h.droplet === "dev"));
    });

    it("only Insync's load balancer reaches the web backends, not mrkr-web-lb", () => {
      assert.ok(reaches(base, "web-lb02", "web02", 8080));
      assert.ok(reaches(base, "web-lb02", "license01", 8080));
      assert.ok(!reaches(base, "mrkr-web-lb", "web02", 8080));
      assert.ok(!reaches(base, "mrkr-web-lb", "license01", 8080));
      assert.ok(fromInternet(base, "mrkr-web-lb", 443));
    });

    it("records that ct1 accepts SSH keys only, and refuses a stack that says otherwise", () => {
      assert.equal(base.outputs.endpoints.sshEntry.auth, "keys-only");
      assert.throws(() => parseSiteConfig(setSpec(rawConfig("insync"), "bastion.sshAuth", "password")));
      assert.throws(() => parseSiteConfig(setSpec(rawConfig("insync"), "bastion.sshAuth", undefined)));
    });
  });

  describe("adoption leaves live servers and backups alone", () => {
    it("retains every droplet if its line is removed, as the seed's removal list will do", async () => {
      for (const d of byType(base, DROPLET)) assert.equal(d.opts.retainOnDelete, true, d.name);
      const raw = rawConfig("insync");
      delete raw.spec.droplets.sendy;
      const after = await runSite(parseSiteConfig(raw));
      assert.deepEqual(diffRuns(base, after).removed, [`${DROPLET}::sendy`]);
      assert.equal(get(base, DROPLET, "sendy").opts.retainOnDelete, true);
    });

    it("puts no expiry on the adopted backup bucket unless expireAdopted says so", async () => {
      const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
      assert.deepEqual(byType(base, LIFECYCLE), []);
      const opted = await runSite(configFor("insync", { "mysql.backups.expireAdopted": true }));
      assert.equal(byType(opted, LIFECYCLE).length, 1);
      const fresh = await runSite(configFor("insync", { "mysql.backups.importId": undefined }));
      assert.equal(byType(fresh, LIFECYCLE).length, 1);
    });

    it("keeps an adopted droplet in its live VPC and creates no VPC for that region", async () => {
      const liveId = "5f2c0a9e-0d1b-4c1e-9a43-2b7d3c1e8f00";
      const after = await runSite(
        configFor("insync", {
          "vpcs.nyc2": { ipRange: "10.132.0.0/16", liveId },
          "droplets.web02.importId": "101000002",
        }),
      );
      assert.equal(get(after, DROPLET, "web02").inputs.vpcUuid, liveId);
      assert.equal(get(after, DROPLET, "web02").opts.import, "101000002");
      assert.deepEqual(
        byType(after, "digitalocean:index/vpc:Vpc").map((v) => v.inputs.region),
        ["sgp1"],
      );
      // Adopting without the live VPC would give the droplet a new one (ForceNew): refused.
      assert.throws(() => configFor("insync", { "droplets.web02.importId": "101000002" }), /live VPC/);
    });
  });
});
