import assert from "node:assert/strict";
import { byType, cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor } from "./support/fixtures";

const DEPLOY = "kubernetes:apps/v1:Deployment";
const DBFW = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica";
const CM = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";

describe("datafruits program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("datafruits"));
  });

  it("registers the cluster, data services, workloads and ingress: 36 resources", () => {
    assert.deepEqual(countByType(base), {
      "digitalocean:index/vpc:Vpc": 1,
      "digitalocean:index/kubernetesCluster:KubernetesCluster": 1,
      "kubernetes:core/v1:Namespace": 1,
      "digitalocean:index/databaseCluster:DatabaseCluster": 2,
      [DBFW]: 2,
      "digitalocean:index/spacesBucket:SpacesBucket": 2,
      "digitalocean:index/cdn:Cdn": 2,
      [CM]: 1,
      [SECRET]: 1,
      [DEPLOY]: 9,
      "kubernetes:core/v1:Service": 9,
      "kubernetes:core/v1:ServiceAccount": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
      "kubernetes:policy/v1:PodDisruptionBudget": 1,
      "kubernetes:networking.k8s.io/v1:Ingress": 1,
    });
    assert.equal(cloudResources(base).length, 36);
  });

  it("sizes the cluster as the RFC's three droplets, HA off explicitly", () => {
    const c = get(base, "digitalocean:index/kubernetesCluster:KubernetesCluster", "datafruits").inputs;
    assert.equal(c.ha, false);
    assert.equal(c.region, "nyc3");
    assert.deepEqual(
      [c.nodePool.size, c.nodePool.nodeCount, c.nodePool.minNodes, c.nodePool.maxNodes],
      ["s-2vcpu-4gb", 3, 3, 5],
    );
    assert.ok(c.tags.includes("site:datafruits"));
  });

  it("admits PostgreSQL and Valkey only from the cluster", () => {
    for (const fw of byType(base, DBFW)) {
      for (const r of fw.inputs.rules) assert.equal(r.type, "k8s", fw.name);
    }
    const pg = get(base, "digitalocean:index/databaseCluster:DatabaseCluster", "datafruits-pg").inputs;
    assert.deepEqual([pg.engine, pg.size, pg.nodeCount], ["pg", "db-s-1vcpu-1gb", 1]);
    assert.ok(pg.privateNetworkUuid);
    assert.equal(
      get(base, "digitalocean:index/databaseCluster:DatabaseCluster", "datafruits-valkey").inputs
        .evictionPolicy,
      "noeviction",
    );
  });

  it("runs single-source workloads and the sidekiq scheduler as one Recreate pod", () => {
    for (const n of ["liquidsoap", "rtmp", "api-sidekiq-scheduler"]) {
      const d = get(base, DEPLOY, n).inputs.spec;
      assert.deepEqual([d.replicas, d.strategy.type], [1, "Recreate"], n);
    }
    assert.equal(get(base, DEPLOY, "chat").inputs.spec.replicas, 2);
    assert.equal(get(base, "kubernetes:core/v1:Service", "chat-headless").inputs.spec.clusterIP, "None");
    assert.equal(get(base, "kubernetes:core/v1:Service", "rtmp-ingest").inputs.spec.type, "LoadBalancer");
  });

  it("labels every Kubernetes object and tags every DigitalOcean resource that takes tags", () => {
    for (const r of cloudResources(base).filter((x) => x.type.startsWith("kubernetes:"))) {
      assert.equal(r.inputs.metadata.labels.site, "datafruits", r.name);
      assert.ok(r.inputs.metadata.labels.role, r.name);
    }
    for (const r of [
      ...byType(base, "digitalocean:index/databaseCluster:DatabaseCluster"),
      ...byType(base, "digitalocean:index/kubernetesCluster:KubernetesCluster"),
    ]) {
      assert.ok(r.inputs.tags.includes("site:datafruits") && r.inputs.tags.includes("env:prod"), r.name);
    }
  });

  it("protects the databases and buckets", () => {
    const names = cloudResources(base)
      .filter((r) => r.opts.protect && r.opts.retainOnDelete)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, [
      "datafruits-pg",
      "datafruits-podcasts",
      "datafruits-static",
      "datafruits-valkey",
    ]);
  });

  it("routes each host to its service through one Ingress", () => {
    const rules = get(base, "kubernetes:networking.k8s.io/v1:Ingress", "datafruits").inputs.spec.rules;
    const map = Object.fromEntries(rules.map((r: any) => [r.host, r.http.paths[0].backend.service.name]));
    assert.deepEqual(map, {
      "datafruits.fm": "site",
      "streampusher.com": "admin",
      "api.datafruits.fm": "api",
      "stream.datafruits.fm": "icecast",
      "dj.datafruits.fm": "liquidsoap",
      "video.datafruits.fm": "rtmp",
      "chat.datafruits.fm": "chat",
    });
  });

  it("scaling sidekiq changes only the pool Deployment's replicas", async () => {
    const after = await runSite(configFor("datafruits", { "sidekiq.pools.main.count": 3 }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: { [`${DEPLOY}::api-sidekiq-main`]: ["spec"] },
    });
    assert.equal(get(after, DEPLOY, "api-sidekiq-main").inputs.spec.replicas, 3);
    assert.equal(after.outputs.sidekiqCount, 3);
  });

  it("adding a read replica adds the replica and its firewall, and publishes its host to the app", async () => {
    const after = await runSite(
      configFor("datafruits", {
        "database.replicas": [{ name: "datafruits-pg-ro-1", size: "db-s-1vcpu-1gb" }],
      }),
    );
    assert.deepEqual(diffRuns(base, after), {
      added: [`${DBFW}::datafruits-pg-ro-1`, `${REPLICA}::datafruits-pg-ro-1`],
      removed: [],
      changed: { [`${CM}::api-env`]: ["data"] },
    });
    assert.equal(
      get(after, REPLICA, "datafruits-pg-ro-1").inputs.clusterId,
      get(after, DBFW, "datafruits-pg").inputs.clusterId,
    );
    assert.equal(get(after, DBFW, "datafruits-pg-ro-1").inputs.clusterId, "datafruits-pg-ro-1-uuid");
    assert.deepEqual(after.outputs.replicas, ["datafruits-pg-ro-1"]);
  });

  it("promoting a replica fences the old cluster and repoints the app env and credentials", async () => {
    const replicas = [{ name: "datafruits-pg-ro-1", size: "db-s-1vcpu-1gb" }];
    const before = await runSite(configFor("datafruits", { "database.replicas": replicas }));
    const after = await runSite(
      configFor("datafruits", { "database.replicas": replicas, "database.primary": "datafruits-pg-ro-1" }),
    );
    assert.deepEqual(diffRuns(before, after), {
      added: [],
      removed: [],
      changed: {
        [`${DBFW}::datafruits-pg`]: ["rules"],
        [`${REPLICA}::datafruits-pg-ro-1`]: ["tags"],
        ["digitalocean:index/databaseCluster:DatabaseCluster::datafruits-pg"]: ["tags"],
        [`${CM}::api-env`]: ["data"],
        [`${SECRET}::api-database`]: ["stringData"],
      },
    });
    assert.deepEqual(get(after, DBFW, "datafruits-pg").inputs.rules, [
      { type: "tag", value: "stackyard-fenced" },
    ]);
    assert.equal(get(after, CM, "api-env").inputs.data.DB_HOST, "private-datafruits-pg-ro-1.db.example.test");
    assert.deepEqual(
      [after.outputs.primary, after.outputs.fenced],
      ["datafruits-pg-ro-1", ["datafruits-pg"]],
    );
  });

  it("exports knobs, endpoints and the external pieces (netlify, add-ons)", () => {
    assert.equal(base.outputs.site, "datafruits");
    assert.equal(base.outputs.primary, "datafruits-pg");
    assert.deepEqual(base.outputs.replicas, []);
    assert.ok(base.outputs.externals.some((e: any) => e.vendor === "netlify"));
    assert.equal(base.outputs.endpoints.hosts.site, "datafruits.fm");
  });
});
