import assert from "node:assert/strict";
import {
  byType,
  cloudResources,
  countByType,
  diffRuns,
  get,
  runSite,
  type Recorded,
  type Run,
} from "./support/harness";
import { configFor } from "./support/fixtures";

const DROPLET = "digitalocean:index/droplet:Droplet";
const FIREWALL = "digitalocean:index/firewall:Firewall";
const DNS = "digitalocean:index/dnsRecord:DnsRecord";
const VOLUME = "digitalocean:index/volume:Volume";

const tagsOf = (run: Run, name: string): string[] => get(run, DROPLET, name).inputs.tags;
const inboundPorts = (fw: Recorded): string[] => (fw.inputs.inboundRules ?? []).map((r: any) => r.portRange);

describe("theatl program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("theatl"));
  });

  // Beyond the seed's tiers: the deploy bucket and the files it holds per role family, the Spaces
  // keys hosts pull and write with, and the IAM users behind awslogs and the secret seed.
  it("registers the seed's tiers and their host delivery: 78 cloud resources by type", () => {
    assert.deepEqual(countByType(base), {
      "digitalocean:index/vpc:Vpc": 1,
      "digitalocean:index/tag:Tag": 10,
      [FIREWALL]: 8,
      "digitalocean:index/domain:Domain": 1,
      [DROPLET]: 9,
      [VOLUME]: 2,
      "digitalocean:index/volumeAttachment:VolumeAttachment": 2,
      [DNS]: 6,
      "digitalocean:index/spacesBucket:SpacesBucket": 3,
      "digitalocean:index/spacesBucketObject:SpacesBucketObject": 19,
      "digitalocean:index/spacesKey:SpacesKey": 3,
      "digitalocean:index/cdn:Cdn": 1,
      "digitalocean:index/reservedIp:ReservedIp": 1,
      "aws:cloudwatch/logGroup:LogGroup": 7,
      "aws:iam/user:User": 2,
      "aws:iam/userPolicy:UserPolicy": 1,
      "aws:iam/accessKey:AccessKey": 2,
    });
    assert.equal(cloudResources(base).length, 78);
  });

  it("puts every droplet in nyc3 inside the VPC with the sizes from config", () => {
    for (const d of byType(base, DROPLET)) {
      assert.equal(d.inputs.region, "nyc3", d.name);
      assert.ok(d.inputs.vpcUuid, `${d.name} has no VPC`);
    }
    assert.equal(get(base, DROPLET, "pg-a").inputs.size, "s-4vcpu-8gb");
    assert.equal(get(base, DROPLET, "theatl-sidekiq-main-1").inputs.size, "s-2vcpu-4gb");
    assert.equal(get(base, DROPLET, "theatl-haproxy").inputs.size, "s-1vcpu-2gb");
    assert.equal(get(base, VOLUME, "pg-a-data").inputs.size, 200);
  });

  it("runs exactly one scheduler process beside the sidekiq pool", () => {
    const withScheduler = byType(base, DROPLET).filter((d) => d.inputs.tags.includes("sidekiq-q:scheduler"));
    assert.deepEqual(
      withScheduler.map((d) => d.name),
      ["theatl-sidekiq-scheduler"],
    );
    const pool = byType(base, DROPLET).filter((d) => d.inputs.tags.includes("sidekiq-pool:main"));
    assert.equal(pool.length, 2);
    for (const d of pool)
      assert.deepEqual(
        d.inputs.tags.filter((t: string) => t.startsWith("sidekiq-q:")),
        ["sidekiq-q:default", "sidekiq-q:push", "sidekiq-q:ingress", "sidekiq-q:mailers", "sidekiq-q:pull"],
      );
    assert.equal(base.outputs.sidekiqCount, 2);
  });

  it("admits PostgreSQL and Redis only from app tags on the private network, never from addresses", () => {
    for (const fw of byType(base, FIREWALL)) {
      for (const r of fw.inputs.inboundRules ?? []) {
        if (["5432", "6379"].includes(r.portRange)) {
          assert.equal(r.sourceAddresses, undefined, `${fw.name} opens ${r.portRange} to addresses`);
          for (const t of r.sourceTags)
            assert.ok(["role:web", "role:sidekiq", "role:pg-standby"].includes(t), `${fw.name} admits ${t}`);
        }
      }
    }
    assert.deepEqual(get(base, FIREWALL, "theatl-pg-primary").inputs.tags, ["role:pg-primary"]);
    assert.deepEqual(get(base, FIREWALL, "theatl-redis").inputs.inboundRules[0].sourceTags, [
      "role:web",
      "role:sidekiq",
    ]);
  });

  it("exposes only HAProxy to the Internet, and SSH only to the admin networks", () => {
    const publicFirewalls = byType(base, FIREWALL).filter((fw) =>
      (fw.inputs.inboundRules ?? []).some((r: any) => (r.sourceAddresses ?? []).includes("0.0.0.0/0")),
    );
    assert.deepEqual(
      publicFirewalls.map((f) => f.name),
      ["theatl-haproxy-public"],
    );
    assert.deepEqual(inboundPorts(publicFirewalls[0]!), ["80", "443"]);
    const ssh = get(base, FIREWALL, "theatl-admin-ssh").inputs.inboundRules[0];
    assert.deepEqual(ssh.sourceAddresses, ["203.0.113.0/24"]);
  });

  it("tags every droplet, volume and log group with site, env and role", () => {
    for (const r of [...byType(base, DROPLET), ...byType(base, VOLUME)]) {
      assert.ok(r.inputs.tags.includes("site:theatl") && r.inputs.tags.includes("env:prod"), r.name);
      assert.ok(
        r.inputs.tags.some((t: string) => t.startsWith("role:")),
        r.name,
      );
    }
    for (const g of byType(base, "aws:cloudwatch/logGroup:LogGroup")) {
      assert.equal(g.inputs.tags.site, "theatl");
      assert.equal(g.inputs.retentionInDays, 30);
      assert.match(g.inputs.name, /^\/theatl\/mastodon\//);
    }
  });

  it("protects database hosts, volumes, redis and buckets, and only those", () => {
    const protectedNames = cloudResources(base)
      .filter((r) => r.opts.protect)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(protectedNames, [
      "pg-a",
      "pg-a-data",
      "pg-b",
      "pg-b-data",
      "theatl-deploy",
      "theatl-media",
      "theatl-pg-dumps",
      "theatl-redis",
    ]);
    for (const r of cloudResources(base).filter((x) => x.opts.protect))
      assert.equal(r.opts.retainOnDelete, true, r.name);
  });

  it("keeps DigitalOcean backups on for every database host", () => {
    for (const node of ["pg-a", "pg-b"]) assert.equal(get(base, DROPLET, node).inputs.backups, true, node);
  });

  it("derives node roles and private DNS from primary and replicas", () => {
    assert.ok(tagsOf(base, "pg-a").includes("role:pg-primary"));
    assert.ok(tagsOf(base, "pg-b").includes("role:pg-standby"));
    assert.match(base.outputs.dbPrimaryPrivateIp, /^10\.10\./);
    assert.equal(get(base, DNS, "theatl-pg-db-primary.int").inputs.value, base.outputs.dbPrimaryPrivateIp);
    assert.equal(get(base, DNS, "theatl-pg-db-primary.int").inputs.ttl, 30);
    assert.deepEqual(
      [base.outputs.primary, base.outputs.replicas, base.outputs.fenced],
      ["pg-a", ["pg-b"], []],
    );
    assert.equal(base.outputs.endpoints.dbPrimaryHost, "db-primary.int.theatl.social");
  });

  it("scaling sidekiq from 2 to 4 adds exactly two pool droplets", async () => {
    const after = await runSite(configFor("theatl", { "sidekiq.pools.main.count": 4 }));
    assert.deepEqual(diffRuns(base, after), {
      added: [`${DROPLET}::theatl-sidekiq-main-3`, `${DROPLET}::theatl-sidekiq-main-4`],
      removed: [],
      changed: {},
    });
    assert.equal(after.outputs.sidekiqCount, 4);
  });

  it("scaling sidekiq down removes the highest-numbered droplet and never the scheduler", async () => {
    const after = await runSite(configFor("theatl", { "sidekiq.pools.main.count": 1 }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [`${DROPLET}::theatl-sidekiq-main-2`],
      changed: {},
    });
  });

  it("adding a read replica adds its droplet, volume, attachment and replica DNS record only", async () => {
    const after = await runSite(
      configFor("theatl", {
        "postgres.nodes.pg-c": { size: "s-4vcpu-8gb", volumeGb: 200 },
        "postgres.replicas": ["pg-b", "pg-c"],
      }),
    );
    assert.deepEqual(diffRuns(base, after), {
      added: [
        `${DNS}::theatl-pg-db-replica.int-pg-c`,
        `${DROPLET}::pg-c`,
        `${VOLUME}::pg-c-data`,
        `digitalocean:index/volumeAttachment:VolumeAttachment::pg-c-data`,
      ],
      removed: [],
      changed: {},
    });
    assert.ok(tagsOf(after, "pg-c").includes("role:pg-standby"));
    assert.deepEqual(after.outputs.replicas, ["pg-b", "pg-c"]);
  });

  it("removing the only replica fences it, points the replica name at the primary and moves the dumps there", async () => {
    const after = await runSite(configFor("theatl", { "postgres.replicas": [] }));
    const d = diffRuns(base, after);
    assert.deepEqual(d.added, [`${DNS}::theatl-pg-db-replica.int-pg-a`]);
    assert.deepEqual(d.removed, [`${DNS}::theatl-pg-db-replica.int-pg-b`]);
    // pg-a's tags change too: with no standby left, the primary carries backup:pgdump.
    assert.deepEqual(d.changed, { [`${DROPLET}::pg-a`]: ["tags"], [`${DROPLET}::pg-b`]: ["tags"] });
    assert.ok(tagsOf(after, "pg-b").includes("role:pg-fenced"));
    assert.ok(tagsOf(after, "pg-a").includes("backup:pgdump"));
    assert.ok(!tagsOf(after, "pg-b").includes("backup:pgdump"));
  });

  it("failover to pg-b flips two droplets' role tags and the primary DNS record, and fences pg-a", async () => {
    const after = await runSite(configFor("theatl", { "postgres.primary": "pg-b" }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: {
        [`${DROPLET}::pg-a`]: ["tags"],
        [`${DROPLET}::pg-b`]: ["tags"],
        [`${DNS}::theatl-pg-db-primary.int`]: ["value"],
      },
    });
    assert.ok(tagsOf(after, "pg-b").includes("role:pg-primary"));
    assert.ok(tagsOf(after, "pg-a").includes("role:pg-fenced"));
    // The fenced node is in no firewall that opens 5432.
    const fencedTags = tagsOf(after, "pg-a");
    for (const fw of byType(after, FIREWALL).filter((f) => inboundPorts(f).includes("5432"))) {
      assert.ok(!fw.inputs.tags.some((t: string) => fencedTags.includes(t)), `${fw.name} still admits pg-a`);
    }
    assert.deepEqual(
      [after.outputs.primary, after.outputs.replicas, after.outputs.fenced],
      ["pg-b", [], ["pg-a"]],
    );
  });

  it("exports the knobs, endpoints and externals", () => {
    for (const k of [
      "site",
      "configRevision",
      "sidekiqCount",
      "replicas",
      "primary",
      "endpoints",
      "externals",
    ])
      assert.ok(k in base.outputs, k);
    assert.equal(base.outputs.site, "theatl");
    assert.equal(base.outputs.configRevision, 0);
    assert.equal(base.outputs.endpoints.publicIp, "192.0.2.10");
    assert.equal(base.outputs.externals[0].name, "opensearch");
  });
});
