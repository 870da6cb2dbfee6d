import { DbNode } from "../cloud-store";
import { Props, reveal, secret, str, strList } from "../property-values";
import { hostSim } from "./db-roles";
import { ResourceSpec, autoName, defaultsOf, fixed, keep, nowIso, simple } from "./spec";

// Linode (Akamai) resources. An instance's region and image force replacement (a new image would
// need a rebuild, which the provider models as replacement); type, label, tags and backups update
// in place. Ids are numeric, like the API's.

const t = (name: string) => `linode:index/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;
const REGIONS = [
  "us-east",
  "us-central",
  "us-west",
  "us-southeast",
  "us-iad",
  "us-ord",
  "ca-central",
  "eu-west",
  "eu-central",
  "ap-south",
  "ap-northeast",
  "ap-southeast",
  "ap-west",
];
const numeric =
  (digits: number): ResourceSpec["newId"] =>
  (_i, ctx) =>
    ctx.alloc.numericId(digits);

function regionCheck(inputs: Props) {
  const r = str(inputs, "region");
  return r === undefined || REGIONS.includes(r)
    ? []
    : [{ property: "region", reason: `unknown Linode region "${r}"` }];
}

/** Linode plan sizes: g6-nanode-1, g6-standard-N, g6-dedicated-N, g7-highmem-N. Memory in MB. */
export function linodeType(id: string): { memory: number; vcpus: number; monthly: number } | undefined {
  if (id === "g6-nanode-1") return { memory: 1024, vcpus: 1, monthly: 5 };
  const m = /^g[67]-(standard|dedicated|highmem)-(\d+)$/.exec(id);
  if (!m) return undefined;
  const n = Number(m[2]);
  const gb = m[1] === "highmem" ? n * 24 : m[1] === "dedicated" ? n * 2 : n <= 1 ? 2 : n * 2;
  return { memory: gb * 1024, vcpus: n, monthly: m[1] === "dedicated" ? gb * 9 : gb * 6 };
}

const instance: ResourceSpec = {
  type: t("Instance"),
  newId: numeric(8),
  replaceOn: ["region", "image", "rootPass", "authorizedKeys", "stackscriptId", "metadatas"],
  defaults: defaultsOf(autoName("label", "-", 6), fixed({ backupsEnabled: false, watchdogEnabled: true })),
  validate(inputs) {
    const failures = regionCheck(inputs);
    const type = str(inputs, "type");
    if (type !== undefined && !linodeType(type))
      failures.push({ property: "type", reason: `unknown Linode type "${type}"` });
    return failures;
  },
  computed(inputs, ctx) {
    const spec = linodeType(str(inputs, "type") ?? "g6-nanode-1") ?? { memory: 1024, vcpus: 1, monthly: 5 };
    const ipv4 = keep(ctx, "ipAddress", () => ctx.alloc.publicIpv4());
    return {
      ipAddress: ipv4,
      ipv4s: [ipv4],
      ipv6: keep(ctx, "ipv6", () => `${ctx.alloc.ipv6()}/128`),
      privateIpAddress:
        reveal(inputs.privateIp) === true
          ? keep(ctx, "privateIpAddress", () => ctx.alloc.privateIpv4("192.168.128.0/17"))
          : "",
      status: "running",
      booted: true,
      hasUserData: Array.isArray(reveal(inputs.metadatas)),
      specs: [
        { memory: spec.memory, vcpus: spec.vcpus, disk: (spec.memory / 1024) * 25 * 1024, transfer: 1000 },
      ],
      hostUuid: keep(ctx, "hostUuid", () => ctx.alloc.uuid()),
      lkeClusterId: 0,
    };
  },
  sim: (inputs, ctx) => hostSim("running", strList(inputs, "tags"), ctx.priorSim),
};

const objectBucket: ResourceSpec = {
  type: t("ObjectStorageBucket"),
  newId: (inputs) =>
    `${str(inputs, "region") ?? str(inputs, "cluster") ?? "us-east-1"}:${str(inputs, "label") ?? "bucket"}`,
  replaceOn: ["label", "region", "cluster"],
  deleteBeforeReplace: () => true,
  defaults: defaultsOf(autoName("label")),
  computed: (inputs) => {
    const region = str(inputs, "region") ?? str(inputs, "cluster") ?? "us-east-1";
    const label = str(inputs, "label") ?? "bucket";
    return {
      hostname: `${label}.${region}.linodeobjects.com`,
      endpoint: `${region}.linodeobjects.com`,
      s3Endpoint: `${region}.linodeobjects.com`,
    };
  },
};

const database = (name: string, engine: string): ResourceSpec => ({
  type: t(name),
  newId: numeric(6),
  replaceOn: ["engineId", "region", "label"],
  validate: regionCheck,
  computed: (inputs, ctx) => ({
    hostPrimary: `a${ctx.id}-akamai-prod-${ctx.id}-default.g2a.akamaidb.net`,
    hostSecondary: `replica-a${ctx.id}-akamai-prod-${ctx.id}-default.g2a.akamaidb.net`,
    port: engine === "mysql" ? 3306 : 5432,
    rootUsername: "akmadmin",
    rootPassword: secret(reveal(ctx.prior?.rootPassword) ?? ctx.alloc.password()),
    engine,
    version: str(inputs, "engineId")?.split("/")[1] ?? "",
    status: "active",
    members: keep(ctx, "members", () => ({ [ctx.alloc.publicIpv4()]: "primary" })),
    created: keep(ctx, "created", nowIso),
  }),
  sim: (inputs, ctx) => ({
    status: "active",
    ...ctx.priorSim,
    nodes: clusterSize(inputs, ctx.priorSim?.nodes),
  }),
});

function clusterSize(inputs: Props, prior: DbNode[] | undefined): DbNode[] {
  const n = Number(reveal(inputs.clusterSize) ?? 1);
  return Array.from(
    { length: n },
    (_, i) =>
      prior?.[i] ?? {
        name: `node-${i + 1}`,
        role: i === 0 ? "primary" : "standby",
        replicationLagSeconds: 0,
        healthy: true,
      },
  );
}

export const linodeSpecs: ResourceSpec[] = [
  instance,
  simple(t("InstanceIp"), numeric(8), {
    replaceOn: ["linodeId", "public"],
    computed: (_i, ctx) => ({
      address: keep(ctx, "address", () => ctx.alloc.publicIpv4()),
      prefix: 24,
      type: "ipv4",
      rdns: "",
    }),
  }),
  simple(t("InstanceSharedIps"), (i) => String(reveal(i.linodeId)), { replaceOn: ["linodeId"] }),
  simple(t("Ipv6Range"), (_i, ctx) => `${ctx.alloc.ipv6().replace(/::1$/, "::")}`, {
    replaceOn: ["prefixLength", "linodeId", "routeTarget"],
    computed: (_i, ctx) => ({ range: ctx.id, isBgp: false, region: "us-east" }),
  }),
  simple(t("Firewall"), numeric(6), {
    defaults: defaultsOf(autoName("label")),
    validate: (inputs) =>
      ["inboundPolicy", "outboundPolicy"]
        .filter((k) => inputs[k] === undefined)
        .map((k) => ({ property: k, reason: `${k} is required` })),
    computed: () => ({ status: "enabled", devices: [] }),
  }),
  simple(t("FirewallDevice"), numeric(6), { replaceOn: ["firewallId", "entityId", "entityType"] }),
  objectBucket,
  simple(t("ObjectStorageKey"), numeric(6), {
    computed: (_i, ctx) => ({
      accessKey: keep(ctx, "accessKey", () => ctx.alloc.hex(20).toUpperCase()),
      secretKey: secret(reveal(ctx.prior?.secretKey) ?? ctx.alloc.password()),
      limited: false,
    }),
  }),
  simple(t("ObjectStorageObject"), (i) => `${str(i, "bucket") ?? ""}/${str(i, "key") ?? ""}`, {
    replaceOn: ["bucket", "key", "region", "cluster"],
  }),
  simple(t("Volume"), numeric(7), {
    replaceOn: ["region"],
    validate: regionCheck,
    computed: (_i, ctx) => ({
      status: "active",
      filesystemPath: `/dev/disk/by-id/scsi-0Linode_Volume_${ctx.name}`,
    }),
  }),
  simple(t("Vpc"), numeric(6), {
    replaceOn: ["region"],
    validate: regionCheck,
    computed: (_i, ctx) => ({ created: keep(ctx, "created", nowIso) }),
  }),
  simple(t("VpcSubnet"), numeric(6), { replaceOn: ["vpcId", "ipv4"] }),
  simple(t("Domain"), numeric(7), {
    replaceOn: ["domain"],
    defaults: defaultsOf(fixed({ status: "active" })),
  }),
  simple(t("DomainRecord"), numeric(8), { replaceOn: ["domainId", "recordType"] }),
  simple(t("Rdns"), (i) => str(i, "address") ?? "0.0.0.0", { replaceOn: ["address"] }),
  simple(t("NodeBalancer"), numeric(6), {
    replaceOn: ["region"],
    validate: regionCheck,
    computed: (_i, ctx) => ({
      ipv4: keep(ctx, "ipv4", () => ctx.alloc.publicIpv4()),
      hostname: `nb-${ctx.id}.newark.nodebalancer.linode.com`,
    }),
  }),
  simple(t("NodeBalancerConfig"), numeric(6), { replaceOn: ["nodebalancerId"] }),
  simple(t("NodeBalancerNode"), numeric(6), {
    replaceOn: ["nodebalancerId", "configId"],
    computed: () => ({ status: "UP" }),
  }),
  simple(t("ReservedIpAssignment"), (i) => str(i, "address") ?? "ip", { replaceOn: ["address", "linodeId"] }),
  simple(t("NetworkingIp"), (_i, ctx) => ctx.alloc.publicIpv4(), {
    replaceOn: ["linodeId", "type", "public", "region", "reserved"],
    computed: (_i, ctx) => ({ address: ctx.id }),
  }),
  simple(t("NetworkingIpAssignment"), (i) => str(i, "region") ?? "region", { replaceOn: ["region"] }),
  database("DatabasePostgresqlV2", "postgresql"),
  database("DatabaseMysqlV2", "mysql"),
  simple(t("LkeCluster"), numeric(6), {
    replaceOn: ["region", "label"],
    computed: (_i, ctx) => ({
      status: "ready",
      apiEndpoints: [`https://${ctx.id}.us-east-1.linodelke.net:443`],
      kubeconfig: secret(
        Buffer.from(
          `apiVersion: v1\nkind: Config\nusers:\n- name: lke\n  user:\n    token: stackyard-sandbox-${ctx.alloc.hex(20)}\n`,
        ).toString("base64"),
      ),
    }),
  }),
  simple(t("LkeNodePool"), numeric(6), { replaceOn: ["clusterId", "type"] }),
  simple(t("StackScript"), numeric(7), {
    computed: (_i, ctx) => ({ deploymentsTotal: 0, created: keep(ctx, "created", nowIso) }),
  }),
  simple(t("SshKey"), numeric(6), {
    replaceOn: ["sshKey"],
    computed: (_i, ctx) => ({ created: keep(ctx, "created", nowIso) }),
  }),
];
