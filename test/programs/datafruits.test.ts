import assert from "node:assert/strict";
import { byType, cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor } from "./support/fixtures";

const DEPLOY = "kubernetes:apps/v1:Deployment";
const DBFW = "digitalocean:index/databaseFirewall:DatabaseFirewall";
const REPLICA = "digitalocean:index/databaseReplica:DatabaseReplica";
const CM = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
const CHECK = "digitalocean:index/uptimeCheck:UptimeCheck";
const ALERT = "digitalocean:index/uptimeAlert:UptimeAlert";
const CHECKSUM = "stackyard.io/config-checksum";
/** The cluster read back every run for fresh credentials: a read, not a resource the stack manages. */
const CREDENTIALS_READ = "datafruits-credentials";
/** The Deployments that read api-env / api-database through envFrom. */
const API_DEPLOYMENTS = ["api", "api-sidekiq-main", "api-sidekiq-scheduler"];

describe("datafruits program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("datafruits"));
  });

  it("registers the cluster, data services, workloads, ingress and uptime monitors: 55 resources", () => {
    // The mocks record the credentials read like a registration; it manages nothing.
    const counts = countByType(base);
    counts[CLUSTER]! -= 1;
    assert.deepEqual(counts, {
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
      // 7 workload Services, chat-headless, and the two TCP load balancers (rtmp-ingest, liquidsoap-harbor).
      "kubernetes:core/v1:Service": 10,
      "kubernetes:core/v1:ServiceAccount": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:Role": 1,
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": 1,
      "kubernetes:policy/v1:PodDisruptionBudget": 1,
      "kubernetes:networking.k8s.io/v1:Ingress": 1,
      // One https check per public HTTP host (6), each with a down and a certificate alert.
      [CHECK]: 6,
      [ALERT]: 12,
    });
    assert.equal(cloudResources(base).length - 1, 55);
  });

  it("sizes the cluster as the RFC's three droplets, HA off explicitly", () => {
    const c = get(base, "digitalocean:index/kubernetesCluster:KubernetesCluster", "datafruits").inputs;
    assert.equal(c.ha, false);
    assert.equal(c.region, "nyc3");
    // autoScale: the pool's size is the autoscaler's, between minNodes and maxNodes.
    assert.deepEqual(
      [c.nodePool.size, c.nodePool.autoScale, c.nodePool.nodeCount, c.nodePool.minNodes, c.nodePool.maxNodes],
      ["s-2vcpu-4gb", true, undefined, 3, 5],
    );
    assert.ok(c.tags.includes("site:datafruits"));
  });

  it("admits PostgreSQL and Valkey only from the cluster", () => {
    for (const fw of byType(base, DBFW)) {
      // DigitalOcean opens a database with no trusted source to every address.
      assert.ok(fw.inputs.rules.length > 0, `${fw.name} has no rule: open to the internet`);
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
      ...byType(base, CLUSTER).filter((c) => c.name !== CREDENTIALS_READ),
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
      "video.datafruits.fm": "rtmp",
      "chat.datafruits.fm": "chat",
    });
  });

  it("serves every Ingress host over TLS from a cert-manager certificate", () => {
    const ing = get(base, INGRESS, "datafruits").inputs;
    assert.equal(ing.metadata.annotations["cert-manager.io/cluster-issuer"], "letsencrypt");
    const tls: Array<{ hosts: string[]; secretName?: string }> = ing.spec.tls ?? [];
    for (const rule of ing.spec.rules) {
      const entry = tls.find((t) => t.hosts.includes(rule.host));
      assert.ok(entry, `${rule.host} is served over plain http`);
      assert.ok(entry.secretName, `${rule.host}: TLS entry names no secret`);
    }
  });

  it("gives liquidsoap's harbor a TCP load balancer, not an HTTP ingress route", () => {
    const rules = get(base, INGRESS, "datafruits").inputs.spec.rules;
    assert.ok(!rules.some((r: any) => r.host === "dj.datafruits.fm"), "harbor routed through the ingress");
    const svc = get(base, "kubernetes:core/v1:Service", "liquidsoap-harbor").inputs.spec;
    assert.deepEqual(
      [svc.type, svc.selector, svc.ports.map((p: any) => [p.port, p.targetPort, p.protocol])],
      ["LoadBalancer", { app: "liquidsoap" }, [[9000, 9000, "TCP"]]],
    );
    assert.equal(base.outputs.endpoints.harborIngestService, "liquidsoap-harbor");
    assert.equal(base.outputs.endpoints.hosts.liquidsoap, "dj.datafruits.fm");
  });

  it("runs one icecast: without a relay a second pod would have listeners and no source", () => {
    assert.equal(get(base, DEPLOY, "icecast").inputs.spec.replicas, 1);
    assert.throws(() => configFor("datafruits", { "workloads.icecast.replicas": 2 }), /icecast/);
  });

  it("protects the cluster and leaves its version to autoUpgrade", () => {
    const c = get(base, CLUSTER, "datafruits");
    assert.equal(c.opts.protect, true);
    assert.equal(c.inputs.autoUpgrade, true);
    assert.ok(
      c.opts.ignoreChanges?.includes("version"),
      "a refreshed patch version would read as a downgrade",
    );
  });

  it("sets the pool's nodeCount only when it does not autoscale", async () => {
    const fixed = await runSite(configFor("datafruits", { "cluster.nodePool.autoScale": false }));
    const pool = get(fixed, CLUSTER, "datafruits").inputs.nodePool;
    assert.deepEqual([pool.autoScale, pool.nodeCount], [false, 3]);
  });

  it("reads the cluster's credentials afresh every run and builds the Kubernetes provider from them", () => {
    const read = get(base, CLUSTER, CREDENTIALS_READ);
    // A read of the managed cluster by its id (the mock's `<name>-id`), with no inputs to manage.
    assert.deepEqual(read.inputs, {});
    assert.deepEqual(
      [...base.resources.values()]
        .filter((r) => r.type === CLUSTER)
        .map((r) => r.name)
        .sort(),
      ["datafruits", CREDENTIALS_READ],
    );
    const doks = get(base, "pulumi:providers:kubernetes", "doks").inputs;
    assert.equal(doks.kubeconfig, "apiVersion: v1\nkind: Config\nclusters: []\n");
    assert.ok(!JSON.stringify(base.outputs).includes("apiVersion: v1"), "kubeconfig exported");
  });

  it("checks every public HTTP host from all four regions and alerts the operators", () => {
    const hosts = get(base, INGRESS, "datafruits")
      .inputs.spec.rules.map((r: any) => r.host)
      .sort();
    const checks = byType(base, CHECK);
    assert.deepEqual(
      checks.map((c) => c.inputs.target).sort(),
      hosts.map((h: string) => `https://${h}/`).sort(),
    );
    for (const c of checks) {
      assert.equal(c.inputs.type, "https");
      assert.equal(c.inputs.regions.length, 4);
      const alerts = byType(base, ALERT).filter((a) => a.name.startsWith(`${c.name}-`));
      assert.deepEqual(alerts.map((a) => a.inputs.type).sort(), ["down_global", "ssl_expiry"], c.name);
      for (const a of alerts) assert.deepEqual(a.inputs.notifications, [{ emails: ["ops@datafruits.fm"] }]);
    }
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
      // The new replica host reaches the pods: the config checksum on their template rolls them.
      changed: {
        [`${CM}::api-env`]: ["data"],
        ...Object.fromEntries(API_DEPLOYMENTS.map((d) => [`${DEPLOY}::${d}`, ["spec"]])),
      },
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
        ...Object.fromEntries(API_DEPLOYMENTS.map((d) => [`${DEPLOY}::${d}`, ["spec"]])),
      },
    });
    // Only the pod template's config checksum differs, so the rollout is a restart on the new env.
    for (const d of API_DEPLOYMENTS) {
      const [b, a] = [before, after].map((r) => get(r, DEPLOY, d).inputs.spec.template);
      assert.notEqual(a.metadata.annotations[CHECKSUM], b.metadata.annotations[CHECKSUM], d);
      assert.deepEqual({ ...a, metadata: {} }, { ...b, metadata: {} }, d);
    }
    assert.deepEqual(get(after, DBFW, "datafruits-pg").inputs.rules, [
      { type: "tag", value: "stackyard-fenced" },
    ]);
    assert.equal(get(after, CM, "api-env").inputs.data.DB_HOST, "private-datafruits-pg-ro-1.db.example.test");
    assert.deepEqual(
      [after.outputs.primary, after.outputs.fenced],
      ["datafruits-pg-ro-1", ["datafruits-pg"]],
    );
  });

  it("admits a read replica only from the cluster, and keeps admitting the app once it is promoted", async () => {
    const replicas = [{ name: "datafruits-pg-ro-1", size: "db-s-1vcpu-1gb" }];
    const fromCluster = get(base, DBFW, "datafruits-pg").inputs.rules;
    assert.deepEqual(
      fromCluster.map((r: any) => r.type),
      ["k8s"],
    );
    for (const primary of ["datafruits-pg", "datafruits-pg-ro-1"]) {
      const run = await runSite(
        configFor("datafruits", { "database.replicas": replicas, "database.primary": primary }),
      );
      // A replica with no trusted source is open to every address; once promoted it is the app's DB_HOST.
      assert.deepEqual(get(run, DBFW, "datafruits-pg-ro-1").inputs.rules, fromCluster, primary);
    }
  });

  it("exports knobs, endpoints and the external pieces (netlify, add-ons)", () => {
    assert.equal(base.outputs.site, "datafruits");
    assert.equal(base.outputs.primary, "datafruits-pg");
    assert.deepEqual(base.outputs.replicas, []);
    assert.ok(base.outputs.externals.some((e: any) => e.vendor === "netlify"));
    assert.equal(base.outputs.endpoints.hosts.site, "datafruits.fm");
  });
});
