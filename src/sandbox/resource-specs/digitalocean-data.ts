import { CheckFailure } from "@pulumi/pulumi/provider";
import { Props, reveal, secret, str } from "../property-values";
import { clusterNodes } from "./db-roles";
import { isDatabaseSize } from "./digitalocean-catalog";
import { regionFailures } from "./digitalocean";
import {
  ResourceSpec,
  SpecContext,
  autoName,
  defaultsOf,
  fixed,
  keep,
  nowIso,
  remember,
  simple,
} from "./spec";

// DigitalOcean managed data services (databases, Spaces, CDN) and Kubernetes. A cluster's engine,
// region and name force replacement; size, nodeCount, version and tags update in place. Generated
// passwords and URIs are returned as secrets (the SDK also lists them in additionalSecretOutputs).

const t = (name: string) => `digitalocean:index/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;
const ENGINES = ["pg", "mysql", "valkey", "redis", "mongodb", "kafka", "opensearch"];

function engineDefaults(engine: string): {
  port: number;
  user: string;
  database: string;
  scheme: string;
  version: string;
} {
  switch (engine) {
    case "mysql":
      return { port: 25060, user: "doadmin", database: "defaultdb", scheme: "mysql", version: "8" };
    case "valkey":
    case "redis":
      return { port: 25061, user: "default", database: "", scheme: "rediss", version: "8" };
    default:
      return { port: 25060, user: "doadmin", database: "defaultdb", scheme: "postgresql", version: "17" };
  }
}

/** Connection facts of a cluster, replica or pool, kept stable across updates. */
function connection(ctx: SpecContext, hostLabel: string, engine: string, dbName?: string, user?: string) {
  const e = engineDefaults(engine);
  const suffix = remember(ctx, "hostSuffix", () => `${ctx.alloc.numericId(7)}-0.${ctx.alloc.hex(6)}`);
  const host = `${hostLabel}-do-user-${suffix}.db.ondigitalocean.com`;
  const privateHost = `private-${host}`;
  const u = user ?? e.user;
  const password = reveal(ctx.prior?.password) ?? ctx.alloc.password();
  const database = dbName ?? e.database;
  const uri = (h: string) =>
    `${e.scheme}://${u}:${password}@${h}:${e.port}/${database}${e.scheme === "postgresql" || e.scheme === "mysql" ? "?sslmode=require" : ""}`;
  return {
    host,
    privateHost,
    port: e.port,
    user: u,
    database,
    password: secret(password),
    uri: secret(uri(host)),
    privateUri: secret(uri(privateHost)),
  };
}

const databaseCluster: ResourceSpec = {
  type: t("DatabaseCluster"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["engine", "region", "name", "privateNetworkUuid"],
  defaults: defaultsOf(autoName("name")),
  validate(inputs) {
    const failures: CheckFailure[] = regionFailures(inputs);
    const engine = str(inputs, "engine");
    if (engine !== undefined && !ENGINES.includes(engine))
      failures.push({ property: "engine", reason: `unknown database engine "${engine}"` });
    const size = str(inputs, "size");
    if (size !== undefined && !isDatabaseSize(size))
      failures.push({ property: "size", reason: `unknown database size "${size}"` });
    const nodes = reveal(inputs.nodeCount);
    if (typeof nodes === "number" && (nodes < 1 || nodes > 3))
      failures.push({
        property: "nodeCount",
        reason: "a cluster has 1 to 3 nodes (a primary and up to two standbys)",
      });
    return failures;
  },
  computed(inputs, ctx) {
    const engine = str(inputs, "engine") ?? "pg";
    const name = str(inputs, "name") ?? ctx.name;
    return {
      ...connection(ctx, name, engine),
      clusterUrn: `do:dbaas:${ctx.id}`,
      version: str(inputs, "version") ?? engineDefaults(engine).version,
      privateNetworkUuid:
        str(inputs, "privateNetworkUuid") ?? keep(ctx, "privateNetworkUuid", () => ctx.alloc.uuid()),
      projectId: str(inputs, "projectId") ?? keep(ctx, "projectId", () => ctx.alloc.uuid()),
      storageSizeMib: str(inputs, "storageSizeMib") ?? "30720",
      metricsEndpoints: [],
    };
  },
  sim(inputs, ctx) {
    const nodeCount = Number(reveal(inputs.nodeCount) ?? 1);
    return {
      ...ctx.priorSim,
      status: "online",
      nodes: clusterNodes(str(inputs, "name") ?? ctx.name, nodeCount, ctx.priorSim?.nodes),
    };
  },
};

const databaseReplica: ResourceSpec = {
  type: t("DatabaseReplica"),
  newId: (inputs, ctx) =>
    `${str(inputs, "clusterId") ?? "cluster"}/replicas/${str(inputs, "name") ?? ctx.name}`,
  replaceOn: ["clusterId", "name", "region", "privateNetworkUuid"],
  defaults: defaultsOf(autoName("name")),
  validate: (inputs) => regionFailures(inputs, "region", false),
  computed(inputs, ctx) {
    const cluster = ctx.store.get(t("DatabaseCluster"), str(inputs, "clusterId") ?? "");
    const engine = (cluster && str(cluster.inputs, "engine")) ?? "pg";
    return {
      ...connection(ctx, `${str(inputs, "name") ?? ctx.name}`, engine),
      uuid: keep(ctx, "uuid", () => ctx.alloc.uuid()),
      privateNetworkUuid:
        str(inputs, "privateNetworkUuid") ?? keep(ctx, "privateNetworkUuid", () => ctx.alloc.uuid()),
      storageSizeMib: str(inputs, "storageSizeMib") ?? "30720",
    };
  },
  // The API reports `forking` while the copy runs; the provider waits for `active` before returning.
  sim: (_i, ctx) => ({
    status: "active",
    role: "replica",
    replicationLagSeconds: 0,
    healthy: true,
    ...ctx.priorSim,
  }),
};

const clusterChild = (name: string, idPart: string, extra: Partial<ResourceSpec> = {}): ResourceSpec =>
  simple(t(name), (i, ctx) => `${str(i, "clusterId") ?? "cluster"}/${idPart}/${str(i, "name") ?? ctx.name}`, {
    replaceOn: ["clusterId", "name"],
    ...extra,
  });

const spacesBucket: ResourceSpec = {
  type: t("SpacesBucket"),
  newId: (inputs) => str(inputs, "name") ?? "bucket",
  replaceOn: ["name", "region"],
  deleteBeforeReplace: () => true,
  defaults: defaultsOf(autoName("name"), fixed({ region: "nyc3", acl: "private", forceDestroy: false })),
  validate(inputs) {
    const name = str(inputs, "name");
    if (name !== undefined && !/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name))
      return [{ property: "name", reason: `invalid bucket name "${name}"` }];
    return regionFailures(inputs);
  },
  computed: (inputs, ctx) => {
    const region = str(inputs, "region") ?? "nyc3";
    return {
      bucketDomainName: `${ctx.id}.${region}.digitaloceanspaces.com`,
      endpoint: `${region}.digitaloceanspaces.com`,
      bucketUrn: `do:space:${ctx.id}`,
    };
  },
};

export const digitaloceanData: ResourceSpec[] = [
  databaseCluster,
  databaseReplica,
  simple(t("DatabaseFirewall"), (_i, ctx) => ctx.alloc.uuid(), {
    replaceOn: ["clusterId"],
    validate(inputs) {
      const rules = (reveal(inputs.rules) as Props[] | undefined) ?? [];
      const bad = rules.find(
        (r) => typeof r.type === "string" && !["droplet", "k8s", "ip_addr", "tag", "app"].includes(r.type),
      );
      return bad ? [{ property: "rules", reason: `unknown rule type "${String(bad.type)}"` }] : [];
    },
  }),
  clusterChild("DatabaseConnectionPool", "pool", {
    computed(inputs, ctx) {
      const cluster = ctx.store.get(t("DatabaseCluster"), str(inputs, "clusterId") ?? "");
      const engine = (cluster && str(cluster.inputs, "engine")) ?? "pg";
      return connection(
        ctx,
        str(inputs, "name") ?? ctx.name,
        engine,
        str(inputs, "dbName"),
        str(inputs, "user"),
      );
    },
  }),
  clusterChild("DatabaseUser", "user", {
    computed: (_i, ctx) => ({
      password: secret(reveal(ctx.prior?.password) ?? ctx.alloc.password()),
      role: "normal",
    }),
  }),
  clusterChild("DatabaseDb", "database"),
  ...["DatabasePostgresqlConfig", "DatabaseMysqlConfig", "DatabaseValkeyConfig", "DatabaseRedisConfig"].map(
    (n) => simple(t(n), (i) => str(i, "clusterId") ?? "cluster", { replaceOn: ["clusterId"] }),
  ),
  spacesBucket,
  simple(
    t("SpacesBucketCorsConfiguration"),
    (i) => `${str(i, "region") ?? "nyc3"}:${str(i, "bucket") ?? ""}`,
    { replaceOn: ["bucket", "region"] },
  ),
  simple(t("SpacesBucketPolicy"), (i) => `${str(i, "region") ?? "nyc3"}:${str(i, "bucket") ?? ""}`, {
    replaceOn: ["bucket", "region"],
  }),
  simple(t("SpacesBucketObject"), (i) => str(i, "key") ?? "object", {
    replaceOn: ["bucket", "region", "key"],
    computed: (_i, ctx) => ({ etag: keep(ctx, "etag", () => ctx.alloc.hex(32)) }),
  }),
  simple(t("SpacesKey"), (_i, ctx) => `DO00${ctx.alloc.hex(16).toUpperCase()}`, {
    computed: (_i, ctx) => ({
      accessKey: ctx.id,
      secretKey: secret(reveal(ctx.prior?.secretKey) ?? ctx.alloc.password()),
      createdAt: keep(ctx, "createdAt", nowIso),
    }),
  }),
  simple(t("Cdn"), (_i, ctx) => ctx.alloc.uuid(), {
    replaceOn: ["origin"],
    defaults: defaultsOf(fixed({ ttl: 3600 })),
    computed: (inputs, ctx) => ({
      endpoint: (str(inputs, "origin") ?? "origin").replace(
        ".digitaloceanspaces.com",
        ".cdn.digitaloceanspaces.com",
      ),
      createdAt: keep(ctx, "createdAt", nowIso),
    }),
  }),
  simple(t("Certificate"), (inputs, ctx) => str(inputs, "name") ?? ctx.name, {
    replaceOn: ["name", "type", "domains", "privateKey", "leafCertificate", "certificateChain"],
    defaults: defaultsOf(autoName("name"), fixed({ type: "custom" })),
    computed: (_i, ctx) => ({
      uuid: keep(ctx, "uuid", () => ctx.alloc.uuid()),
      state: "verified",
      notAfter: "2099-01-01T00:00:00Z",
      sha1Fingerprint: keep(ctx, "sha1Fingerprint", () => ctx.alloc.hex(40)),
    }),
  }),
];
