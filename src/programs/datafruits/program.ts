import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { Workload } from "../components/k8s-workload";
import { ManagedPostgres } from "../components/managed-postgres";
import { SpacesCdnBucket } from "../components/spaces-cdn-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import type { DatafruitsConfig } from "./spec";
import { UptimeMonitors } from "./uptime-monitors";
import { WORKLOAD_SHAPES as shape } from "./workload-shapes";
import { SiteRoot, siteLabels, siteTags, stateful, type SiteContext } from "../site-context";

/** Pod-template annotation holding a checksum of the config the pods read at start. */
export const CONFIG_CHECKSUM = "stackyard.io/config-checksum";

/**
 * datafruits.fm (seed 004): the RFC's DOKS cluster. Data lives outside the cluster (managed
 * PostgreSQL and Valkey for sidekiq, Spaces for assets and podcasts); everything that runs code
 * is a Deployment. Network, then data, then apps, then edge.
 */
export async function datafruitsProgram(
  cfg: DatafruitsConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const s = cfg.spec;
  const ctx: SiteContext = { site: "datafruits", env: s.env };
  const root = new SiteRoot("datafruits", opts);
  const parent = { parent: root };

  // Network and cluster.
  const vpc = new digitalocean.Vpc(
    "datafruits-vpc",
    { name: `datafruits-${s.region}`, region: s.region, ipRange: s.vpc.ipRange },
    parent,
  );
  const np = s.cluster.nodePool;
  const cluster = new digitalocean.KubernetesCluster(
    s.cluster.name,
    {
      name: s.cluster.name,
      region: s.region,
      // With autoUpgrade DigitalOcean moves the cluster to new patch releases itself; the stack's
      // version is the one it was created at, ignored afterwards (see ignoreChanges below).
      version: s.cluster.version,
      vpcUuid: vpc.id,
      ha: s.cluster.ha,
      autoUpgrade: true,
      surgeUpgrade: true,
      maintenancePolicy: { day: "sunday", startTime: "04:00" },
      tags: siteTags(ctx, "k8s"),
      nodePool: {
        name: np.name,
        size: np.size,
        // An autoscaled pool's size belongs to the autoscaler: a nodeCount would fight it on every up.
        nodeCount: np.autoScale ? undefined : np.count,
        autoScale: np.autoScale,
        minNodes: np.autoScale ? np.minNodes : undefined,
        maxNodes: np.autoScale ? np.maxNodes : undefined,
        tags: siteTags(ctx, "k8s-node"),
        labels: siteLabels(ctx, "k8s-node"),
      },
    },
    {
      parent: root,
      // Deleting or replacing the cluster takes every workload with it.
      protect: true,
      // After DigitalOcean's patch upgrade, a refresh reads the newer version; the pinned one would
      // then be a downgrade, which the provider can only do by replacing the cluster.
      ignoreChanges: ["version"],
    },
  );
  // The cluster's kubeConfigs in state carry a token DigitalOcean expires after 7 days. Reading the
  // cluster (a resource read, not a data source) asks the provider for its current credentials on
  // every run, so the Kubernetes provider never starts from a week-old token.
  const live = digitalocean.KubernetesCluster.get(
    `${s.cluster.name}-credentials`,
    cluster.id,
    undefined,
    parent,
  );
  const provider = new k8s.Provider(
    "doks",
    { kubeconfig: live.kubeConfigs.apply((c) => c[0]?.rawConfig ?? "") },
    parent,
  );
  const inCluster = { parent: root, provider };
  const wl = { parent: root, providers: [provider] };
  const ns = new k8s.core.v1.Namespace(
    s.namespace,
    { metadata: { name: s.namespace, labels: siteLabels(ctx, "namespace") } },
    inCluster,
  );
  const namespace = ns.metadata.name;
  const meta = (name: string, role: string) => ({ name, namespace, labels: siteLabels(ctx, role) });

  // Data: only the cluster's nodes are trusted sources.
  const fromCluster = [{ type: "k8s", value: cluster.id }];
  const pg = new ManagedPostgres(
    "datafruits-pg",
    { ctx, ...s.database, region: s.region, vpcUuid: vpc.id, appSources: fromCluster },
    parent,
  );
  const valkey = new digitalocean.DatabaseCluster(
    s.redis.name,
    {
      name: s.redis.name,
      engine: "valkey",
      version: s.redis.version,
      size: s.redis.size,
      nodeCount: 1,
      region: s.region,
      privateNetworkUuid: vpc.id,
      // Sidekiq jobs must never be evicted.
      evictionPolicy: "noeviction",
      tags: siteTags(ctx, "redis"),
    },
    stateful(root),
  );
  new digitalocean.DatabaseFirewall(s.redis.name, { clusterId: valkey.id, rules: fromCluster }, parent);
  const assets = new SpacesCdnBucket(
    "datafruits-static",
    {
      bucketName: s.spaces.staticBucket,
      region: s.spaces.region,
      acl: "public-read",
      cdn: { ttlSeconds: 86400 },
    },
    parent,
  );
  const podcasts = new SpacesCdnBucket(
    "datafruits-podcasts",
    {
      bucketName: s.spaces.podcastsBucket,
      region: s.spaces.region,
      acl: "public-read",
      cdn: { ttlSeconds: 86400 },
    },
    parent,
  );

  // App env derives from the primary knob; credentials come from provider outputs, as secrets.
  const apiEnvData = {
    DATABASE_PRIMARY: s.database.primary,
    DB_HOST: pg.primaryHost,
    DB_PORT: pg.primaryPort.apply(String),
    DATABASE_REPLICA_HOSTS: pulumi.all(Object.values(pg.replicaHosts)).apply((h) => h.join(",")),
    REDIS_HOST: valkey.privateHost,
    S3_STATIC_BUCKET: s.spaces.staticBucket,
    S3_PODCASTS_BUCKET: s.spaces.podcastsBucket,
    S3_ENDPOINT: `https://${s.spaces.region}.digitaloceanspaces.com`,
  };
  const apiSecretData = { DATABASE_URL: pg.primaryUri, REDIS_URL: pulumi.secret(valkey.privateUri) };
  const apiEnv = new k8s.core.v1.ConfigMap(
    "api-env",
    { metadata: meta("api-env", "api"), data: apiEnvData },
    inCluster,
  );
  const apiSecrets = new k8s.core.v1.Secret(
    "api-database",
    { metadata: meta("api-database", "api"), stringData: apiSecretData },
    inCluster,
  );
  const apiEnvFrom = [{ configMap: apiEnv.metadata.name }, { secret: apiSecrets.metadata.name }];
  // Pods read envFrom only when they start, and the ConfigMap and Secret keep their names: a
  // checksum of what both are given (their inputs; a Secret reports no stringData back) on the pod
  // template is what rolls the pods when the primary moves or a database password changes. The
  // digest is not secret: a SHA-256 of URIs carrying DigitalOcean's generated passwords cannot be
  // walked back, and a secret digest would make the whole Deployment spec secret in state.
  const apiConfigChecksum = pulumi.unsecret(
    pulumi
      .all([pulumi.output(apiEnvData), pulumi.output(apiSecretData)])
      .apply(([data, secret]) => createHash("sha256").update(JSON.stringify({ data, secret })).digest("hex")),
  );
  const apiPodAnnotations = { [CONFIG_CHECKSUM]: apiConfigChecksum };

  // Apps.
  const w = s.workloads;
  new Workload(
    "site",
    {
      ctx,
      namespace,
      image: w.site.image,
      replicas: w.site.replicas,
      ports: [{ name: "http", port: 3000 }],
      ...shape.site,
    },
    wl,
  );
  new Workload(
    "admin",
    {
      ctx,
      namespace,
      image: w.admin.image,
      replicas: w.admin.replicas,
      ports: [{ name: "http", port: 80 }],
      ...shape.admin,
    },
    wl,
  );
  new Workload(
    "api",
    {
      ctx,
      namespace,
      image: w.api.image,
      replicas: w.api.replicas,
      ports: [{ name: "http", port: 3000 }],
      envFrom: apiEnvFrom,
      podAnnotations: apiPodAnnotations,
      ...shape.api,
    },
    wl,
  );
  const sq = s.sidekiq;
  const sidekiqArgs = (threads: number, queues: string[]) => [
    "bundle",
    "exec",
    "sidekiq",
    "-c",
    String(threads),
    ...queues.flatMap((q) => ["-q", q]),
  ];
  // sidekiq-scheduler runs its schedule only here; the pool pods have it disabled.
  new Workload(
    "api-sidekiq-scheduler",
    {
      ctx,
      namespace,
      image: w.api.image,
      replicas: 1,
      recreate: true,
      args: sidekiqArgs(sq.scheduler.threads, sq.scheduler.queues),
      env: { SIDEKIQ_SCHEDULER: "enabled" },
      envFrom: apiEnvFrom,
      podAnnotations: apiPodAnnotations,
      ...shape.sidekiq,
    },
    wl,
  );
  for (const [pool, p] of Object.entries(sq.pools)) {
    new Workload(
      `api-sidekiq-${pool}`,
      {
        ctx,
        namespace,
        image: w.api.image,
        replicas: p.count,
        args: sidekiqArgs(p.threads, p.queues),
        env: { SIDEKIQ_SCHEDULER: "disabled" },
        envFrom: apiEnvFrom,
        podAnnotations: apiPodAnnotations,
        ...shape.sidekiq,
      },
      wl,
    );
  }
  new Workload(
    "icecast",
    {
      ctx,
      namespace,
      image: w.icecast.image,
      // One icecast: liquidsoap pushes its one source to it. A second pod would have no source (no
      // relay is configured), so its listeners would hear silence; the schema pins this to 1.
      replicas: w.icecast.replicas,
      ports: [{ name: "http", port: 8000 }],
      ...shape.icecast,
    },
    wl,
  );
  new Workload(
    "liquidsoap",
    {
      ctx,
      namespace,
      image: w.liquidsoap.image,
      replicas: 1,
      recreate: true,
      ports: [{ name: "harbor", port: 9000 }],
      ...shape.liquidsoap,
    },
    wl,
  );
  new Workload(
    "rtmp",
    {
      ctx,
      namespace,
      image: w.rtmp.image,
      replicas: 1,
      recreate: true,
      ports: [
        { name: "rtmp", port: 1935 },
        { name: "hls", port: 8080 },
      ],
      ...shape.rtmp,
    },
    wl,
  );
  // RTMP is not HTTP: VJs reach nginx-rtmp through its own TCP load balancer.
  const rtmpIngest = new k8s.core.v1.Service(
    "rtmp-ingest",
    {
      metadata: meta("rtmp-ingest", "rtmp"),
      spec: {
        type: "LoadBalancer",
        selector: { app: "rtmp" },
        ports: [{ name: "rtmp", port: 1935, targetPort: 1935, protocol: "TCP" }],
      },
    },
    inCluster,
  );
  // A DJ's source stream into liquidsoap's harbor is one long-lived request body: an HTTP ingress
  // buffers it and caps its size (ingress-nginx: 1m), so harbor gets its own TCP load balancer too.
  const harborIngest = new k8s.core.v1.Service(
    "liquidsoap-harbor",
    {
      metadata: meta("liquidsoap-harbor", "liquidsoap"),
      spec: {
        type: "LoadBalancer",
        selector: { app: "liquidsoap" },
        ports: [{ name: "harbor", port: 9000, targetPort: 9000, protocol: "TCP" }],
      },
    },
    inCluster,
  );
  // Chat: Phoenix nodes find each other through libcluster's Kubernetes strategy (endpoints API + headless Service).
  const chatSa = new k8s.core.v1.ServiceAccount("chat", { metadata: meta("chat", "chat") }, inCluster);
  const chatRole = new k8s.rbac.v1.Role(
    "chat-libcluster",
    {
      metadata: meta("chat-libcluster", "chat"),
      rules: [{ apiGroups: [""], resources: ["endpoints", "pods"], verbs: ["get", "list", "watch"] }],
    },
    inCluster,
  );
  new k8s.rbac.v1.RoleBinding(
    "chat-libcluster",
    {
      metadata: meta("chat-libcluster", "chat"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: chatRole.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: chatSa.metadata.name, namespace }],
    },
    inCluster,
  );
  new Workload(
    "chat",
    {
      ctx,
      namespace,
      image: w.chat.image,
      replicas: w.chat.replicas,
      ports: [
        { name: "http", port: 4000 },
        { name: "epmd", port: 4369 },
      ],
      env: { LIBCLUSTER_STRATEGY: "kubernetes-dns", LIBCLUSTER_SERVICE: "chat-headless" },
      secretEnv: { RELEASE_COOKIE: { secret: "hotdog-lounge-cookie", key: "cookie" } },
      serviceAccountName: chatSa.metadata.name,
      headless: true,
      minAvailable: 1,
      ...shape.chat,
    },
    wl,
  );

  // Edge: one Ingress maps each HTTP host to its Service (the RFC's datafruits.fm / static. example);
  // dj. (harbor) is the TCP load balancer above, not a route.
  const routes: [string, string, number][] = [
    [w.site.host, "site", 3000],
    [w.admin.host, "admin", 80],
    [w.api.host, "api", 3000],
    [w.icecast.host, "icecast", 8000],
    [w.rtmp.host, "rtmp", 8080],
    [w.chat.host, "chat", 4000],
  ];
  new k8s.networking.v1.Ingress(
    "datafruits",
    {
      metadata: {
        ...meta("datafruits", "ingress"),
        annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" },
      },
      spec: {
        ingressClassName: "nginx",
        tls: [{ hosts: routes.map(([h]) => h), secretName: "datafruits-tls" }],
        rules: routes.map(([host, svc, port]) => ({
          host,
          http: {
            paths: [
              { path: "/", pathType: "Prefix", backend: { service: { name: svc, port: { number: port } } } },
            ],
          },
        })),
      },
    },
    inCluster,
  );

  // Monitoring (the RFC's step 2): every public HTTP endpoint is checked from outside the cluster.
  new UptimeMonitors(
    "datafruits-uptime",
    { hosts: Object.fromEntries(routes.map(([h, svc]) => [svc, h])), alertEmails: s.monitoring.alertEmails },
    parent,
  );

  return root.finish({
    site: cfg.site,
    configRevision: cfg.configRevision,
    env: s.env,
    region: s.region,
    ...sidekiqOutputs(sq, { deployment: "api-sidekiq-scheduler" }),
    replicas: s.database.replicas.filter((r) => r.name !== s.database.primary).map((r) => r.name),
    primary: s.database.primary,
    fenced: s.database.primary === s.database.name ? [] : [s.database.name],
    cluster: { name: s.cluster.name, ha: s.cluster.ha, nodePool: np },
    endpoints: {
      hosts: { ...Object.fromEntries(routes.map(([h, svc]) => [svc, h])), liquidsoap: w.liquidsoap.host },
      databaseHost: pg.primaryHost,
      redisHost: valkey.privateHost,
      staticCdn: assets.cdnEndpoint,
      podcastsCdn: podcasts.cdnEndpoint,
      rtmpIngestService: rtmpIngest.metadata.name,
      harborIngestService: harborIngest.metadata.name,
    },
    externals: s.externals,
  });
}
