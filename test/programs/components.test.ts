import assert from "node:assert/strict";
import { parse } from "yaml";
import { renderCompose, sidekiqServices } from "../../src/programs/compose";
import { DoPrivateNetwork } from "../../src/programs/components/do-private-network";
import { Workload } from "../../src/programs/components/k8s-workload";
import { FENCE_TAG, ManagedPostgres } from "../../src/programs/components/managed-postgres";
import { ReplicatedDbDroplets } from "../../src/programs/components/replicated-db-droplets";
import { SidekiqDropletPool } from "../../src/programs/components/sidekiq-droplet-pool";
import { SpacesCdnBucket } from "../../src/programs/components/spaces-cdn-bucket";
import type { SiteContext } from "../../src/programs/site-context";
import { runComponents } from "./support/harness";

const ctx: SiteContext = { site: "theatl", env: "staging" };
const names = (rec: Map<string, unknown>, type: string) =>
  [...rec.keys()]
    .filter((k) => k.startsWith(`${type}::`))
    .map((k) => k.split("::")[1])
    .sort();

describe("DoPrivateNetwork component", () => {
  it("refuses a firewall that names an undeclared tag", () => {
    assert.throws(
      () =>
        new DoPrivateNetwork("n", {
          name: "n",
          vpcs: [],
          tags: ["role:web"],
          firewalls: [{ name: "db", targetTags: ["role:db"] }],
        }),
      /names tags that are not declared: role:db/,
    );
  });

  it("refuses more than five target tags (a DigitalOcean limit)", () => {
    const tags = ["a", "b", "c", "d", "e", "f"];
    assert.throws(
      () =>
        new DoPrivateNetwork("n", {
          name: "n",
          vpcs: [],
          tags,
          firewalls: [{ name: "x", targetTags: tags }],
        }),
      /allows 5/,
    );
  });

  it("creates one VPC per region and one Tag per declared tag", async () => {
    const rec = await runComponents(() => {
      new DoPrivateNetwork("n", {
        name: "n",
        vpcs: [
          { region: "nyc2", ipRange: "10.1.0.0/20" },
          { region: "sgp1", ipRange: "10.2.0.0/20" },
        ],
        tags: ["role:a", "role:b"],
        firewalls: [],
      });
    });
    assert.deepEqual(names(rec, "digitalocean:index/vpc:Vpc"), ["n-nyc2", "n-sgp1"]);
    assert.equal(names(rec, "digitalocean:index/tag:Tag").length, 2);
  });
});

describe("ReplicatedDbDroplets component", () => {
  it("points the replica DNS name at the primary when there is no standby", async () => {
    const rec = await runComponents(() => {
      new ReplicatedDbDroplets("db", {
        ctx,
        rolePrefix: "pg",
        nodes: { a: { region: "nyc3", size: "s-1vcpu-1gb" }, b: { region: "nyc3", size: "s-1vcpu-1gb" } },
        primary: "a",
        replicas: [],
        image: "ubuntu-24-04-x64",
        vpcIds: { nyc3: "vpc" },
        dns: { domain: "example.test", primaryName: "p", replicaName: "r", ttl: 30 },
      });
    });
    assert.deepEqual(names(rec, "digitalocean:index/dnsRecord:DnsRecord"), ["db-p", "db-r-a"]);
    const b = rec.get("digitalocean:index/droplet:Droplet::b") as any;
    assert.ok(b.inputs.tags.includes("role:pg-fenced"));
  });
});

describe("SidekiqDropletPool component", () => {
  it("names pool droplets by pool and index beside one scheduler", async () => {
    const rec = await runComponents(() => {
      new SidekiqDropletPool("sk", {
        ctx,
        spec: {
          size: "s-1vcpu-1gb",
          scheduler: { threads: 5, queues: ["scheduler"] },
          pools: {
            push: { count: 2, threads: 10, queues: ["push"] },
            rest: { count: 1, threads: 25, queues: ["default"] },
          },
        },
        region: "nyc3",
        image: "ubuntu-24-04-x64",
        vpcUuid: "vpc",
        userData: "#cloud-config\n",
      });
    });
    assert.deepEqual(names(rec, "digitalocean:index/droplet:Droplet"), [
      "sk-push-1",
      "sk-push-2",
      "sk-rest-1",
      "sk-scheduler",
    ]);
  });
});

describe("SpacesCdnBucket component", () => {
  it("adds a CDN only when asked, and an expiry rule for backup buckets", async () => {
    const rec = await runComponents(() => {
      new SpacesCdnBucket("media", {
        bucketName: "m",
        region: "nyc3",
        acl: "public-read",
        cdn: { ttlSeconds: 60 },
      });
      new SpacesCdnBucket("dumps", { bucketName: "d", region: "nyc3", acl: "private", expireDays: 14 });
    });
    assert.deepEqual(names(rec, "digitalocean:index/cdn:Cdn"), ["media"]);
    const dumps = rec.get("digitalocean:index/spacesBucket:SpacesBucket::dumps") as any;
    assert.deepEqual(dumps.inputs.lifecycleRules, [{ enabled: true, expiration: { days: 14 } }]);
  });
});

describe("ManagedPostgres component", () => {
  it("fences the cluster with a rule that admits nobody when a replica is primary", async () => {
    const rec = await runComponents(() => {
      new ManagedPostgres("pg", {
        ctx,
        name: "pg",
        version: "16",
        size: "db-s-1vcpu-1gb",
        nodeCount: 1,
        region: "nyc3",
        vpcUuid: "vpc",
        replicas: [{ name: "ro", size: "db-s-1vcpu-1gb" }],
        primary: "ro",
        appSources: [{ type: "k8s", value: "cluster" }],
      });
    });
    const fw = rec.get("digitalocean:index/databaseFirewall:DatabaseFirewall::pg") as any;
    assert.deepEqual(fw.inputs.rules, [{ type: "tag", value: FENCE_TAG }]);
  });
});

describe("Workload component", () => {
  it("creates no Service for a workload without ports, and Recreate for single-source ones", async () => {
    const rec = await runComponents(() => {
      new Workload("worker", { ctx, namespace: "ns", image: "x/y:1", replicas: 1, recreate: true });
    });
    assert.deepEqual(names(rec, "kubernetes:core/v1:Service"), []);
    const d = rec.get("kubernetes:apps/v1:Deployment::worker") as any;
    assert.equal(d.inputs.spec.strategy.type, "Recreate");
  });
});

describe("compose rendering", () => {
  it("keeps the scheduler queue in a single-replica service", () => {
    const svcs = sidekiqServices(
      "ghcr.io/mastodon/mastodon:v4.3.17",
      {
        scheduler: { threads: 5, queues: ["scheduler"] },
        pools: { main: { count: 6, threads: 25, queues: ["default"] } },
      },
      ["n"],
    );
    const doc = parse(renderCompose(svcs, { n: { internal: true } }));
    assert.equal(doc.services["sidekiq-scheduler"].deploy.replicas, 1);
    assert.equal(doc.services["sidekiq-main"].deploy.replicas, 6);
    assert.equal(doc.services["sidekiq-main"].environment.DB_POOL, "25");
    assert.equal(doc.networks.n.internal, true);
  });
});
