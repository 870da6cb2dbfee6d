import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Workload } from "../components/k8s-workload";
import { ManagedPostgres } from "../components/managed-postgres";
import { SpacesCdnBucket } from "../components/spaces-cdn-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import type { DatafruitsConfig } from "./spec";
import { SiteRoot, siteLabels, siteTags, stateful, type SiteContext } from "../site-context";

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
        nodeCount: np.count,
        autoScale: np.autoScale,
        minNodes: np.autoScale ? np.minNodes : undefined,
        maxNodes: np.autoScale ? np.maxNodes : undefined,
        tags: siteTags(ctx, "k8s-node"),
        labels: siteLabels(ctx, "k8s-node"),
      },
    },
    parent,
  );
  const provider = new k8s.Provider(
    "doks",
    { kubeconfig: cluster.kubeConfigs.apply((c) => c[0]?.rawConfig ?? "") },
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
  const apiEnv = new k8s.core.v1.ConfigMap(
    "api-env",
    {
      metadata: meta("api-env", "api"),
      data: {
        DATABASE_PRIMARY: s.database.primary,
        DB_HOST: pg.primaryHost,
        DB_PORT: pg.primaryPort.apply(String),
        DATABASE_REPLICA_HOSTS: pulumi.all(Object.values(pg.replicaHosts)).apply((h) => h.join(",")),
        REDIS_HOST: valkey.privateHost,
        S3_STATIC_BUCKET: s.spaces.staticBucket,
        S3_PODCASTS_BUCKET: s.spaces.podcastsBucket,
        S3_ENDPOINT: `https://${s.spaces.region}.digitaloceanspaces.com`,
      },
    },
    inCluster,
  );
  const apiSecrets = new k8s.core.v1.Secret(
    "api-database",
    {
      metadata: meta("api-database", "api"),
      stringData: { DATABASE_URL: pg.primaryUri, REDIS_URL: pulumi.secret(valkey.privateUri) },
    },
    inCluster,
  );
  const apiEnvFrom = [{ configMap: apiEnv.metadata.name }, { secret: apiSecrets.metadata.name }];

  // Apps.
  const w = s.workloads;
  new Workload(
    "site",
    { ctx, namespace, image: w.site.image, replicas: w.site.replicas, ports: [{ name: "http", port: 3000 }] },
    wl,
  );
  new Workload(
    "admin",
    { ctx, namespace, image: w.admin.image, replicas: w.admin.replicas, ports: [{ name: "http", port: 80 }] },
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
      replicas: w.icecast.replicas,
      ports: [{ name: "http", port: 8000 }],
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
    },
    wl,
  );

  // Edge: one Ingress maps each host to its Service (the RFC's datafruits.fm / dj. / static. example).
  const routes: [string, string, number][] = [
    [w.site.host, "site", 3000],
    [w.admin.host, "admin", 80],
    [w.api.host, "api", 3000],
    [w.icecast.host, "icecast", 8000],
    [w.liquidsoap.host, "liquidsoap", 9000],
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
      hosts: Object.fromEntries(routes.map(([h, svc]) => [svc, h])),
      databaseHost: pg.primaryHost,
      redisHost: valkey.privateHost,
      staticCdn: assets.cdnEndpoint,
      podcastsCdn: podcasts.cdnEndpoint,
      rtmpIngestService: rtmpIngest.metadata.name,
    },
    externals: s.externals,
  });
}
