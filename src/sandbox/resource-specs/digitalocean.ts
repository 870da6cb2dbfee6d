import { CheckFailure } from "@pulumi/pulumi/provider";
import { Props, reveal, str, strList } from "../property-values";
import { hostSim } from "./db-roles";
import { DO_REGIONS, defaultVpcRange, dropletSize, hourly } from "./digitalocean-catalog";
import { ResourceSpec, SpecContext, autoName, defaultsOf, fixed, keep, nowIso, simple } from "./spec";

// DigitalOcean compute and networking. Replacement rules follow the Terraform provider's ForceNew
// flags (the Pulumi bridge reports them as replaces): a droplet's region, image, userData, sshKeys
// and vpcUuid; a VPC's region and ipRange; a reserved IP's region.

const t = (name: string) => `digitalocean:index/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;

export function regionFailures(inputs: Props, key = "region", required = true): CheckFailure[] {
  const region = str(inputs, key);
  if (region === undefined)
    return required && inputs[key] === undefined ? [{ property: key, reason: `${key} is required` }] : [];
  return DO_REGIONS.includes(region)
    ? []
    : [{ property: key, reason: `unknown DigitalOcean region slug "${region}"` }];
}

/** The private range droplets of this VPC (or the region's default VPC) take addresses from. */
function vpcRange(inputs: Props, ctx: SpecContext): string {
  const vpcId = str(inputs, "vpcUuid");
  const vpc = vpcId ? ctx.store.get(t("Vpc"), vpcId) : undefined;
  return (vpc && str(vpc.outputs, "ipRange")) ?? defaultVpcRange(str(inputs, "region") ?? "nyc3");
}

const droplet: ResourceSpec = {
  type: t("Droplet"),
  newId: (_i, ctx) => ctx.alloc.numericId(9),
  replaceOn: ["region", "image", "userData", "sshKeys", "vpcUuid"],
  defaults: defaultsOf(
    autoName("name"),
    fixed({ ipv6: false, monitoring: false, backups: false, resizeDisk: true, gracefulShutdown: false }),
  ),
  validate(inputs) {
    const failures = regionFailures(inputs);
    const size = str(inputs, "size");
    if (inputs.size === undefined) failures.push({ property: "size", reason: "size is required" });
    else if (size !== undefined && !dropletSize(size))
      failures.push({ property: "size", reason: `unknown droplet size "${size}"` });
    if (inputs.image === undefined) failures.push({ property: "image", reason: "image is required" });
    const tags = strList(inputs, "tags");
    if (tags.some((x) => !/^[a-zA-Z0-9_\-:]{1,255}$/.test(x)))
      failures.push({ property: "tags", reason: "tags may hold only letters, digits, '-', '_' and ':'" });
    return failures;
  },
  computed(inputs, ctx) {
    const size = dropletSize(str(inputs, "size") ?? "") ?? {
      memory: 1024,
      vcpus: 1,
      disk: 25,
      priceMonthly: 6,
    };
    const vpcUuid = str(inputs, "vpcUuid") ?? keep(ctx, "vpcUuid", () => ctx.alloc.uuid());
    return {
      dropletUrn: `do:droplet:${ctx.id}`,
      status: "active",
      locked: false,
      createdAt: keep(ctx, "createdAt", nowIso),
      memory: size.memory,
      vcpus: size.vcpus,
      disk: size.disk,
      priceMonthly: size.priceMonthly,
      priceHourly: hourly(size.priceMonthly),
      vpcUuid,
      privateNetworking: true,
      publicNetworking: true,
      ipv4Address: keep(ctx, "ipv4Address", () => ctx.alloc.publicIpv4()),
      ipv4AddressPrivate: keep(ctx, "ipv4AddressPrivate", () => ctx.alloc.privateIpv4(vpcRange(inputs, ctx))),
      ipv6Address: reveal(inputs.ipv6) === true ? keep(ctx, "ipv6Address", () => ctx.alloc.ipv6()) : "",
      volumeIds: reveal(inputs.volumeIds) ?? [],
    };
  },
  sim: (inputs, ctx) => hostSim("active", strList(inputs, "tags"), ctx.priorSim),
};

const vpc: ResourceSpec = {
  type: t("Vpc"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["region", "ipRange"],
  defaults: defaultsOf(autoName("name")),
  validate: (inputs) => regionFailures(inputs),
  computed: (inputs, ctx) => ({
    vpcUrn: `do:vpc:${ctx.id}`,
    createdAt: keep(ctx, "createdAt", nowIso),
    default: false,
    ipRange:
      str(inputs, "ipRange") ?? keep(ctx, "ipRange", () => defaultVpcRange(str(inputs, "region") ?? "nyc3")),
  }),
};

const firewall: ResourceSpec = {
  type: t("Firewall"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  defaults: defaultsOf(autoName("name")),
  validate(inputs) {
    const failures: CheckFailure[] = [];
    const ids = reveal(inputs.dropletIds);
    if (Array.isArray(ids) && ids.length > 10)
      failures.push({
        property: "dropletIds",
        reason: `a firewall may name at most 10 droplets (got ${ids.length}); use tags`,
      });
    if (strList(inputs, "tags").length > 5)
      failures.push({ property: "tags", reason: "a firewall may name at most 5 tags" });
    return failures;
  },
  computed: (_i, ctx) => ({
    status: "succeeded",
    createdAt: keep(ctx, "createdAt", nowIso),
    pendingChanges: [],
  }),
};

/** Reserved (and legacy floating) IPs: the id is the address; dropletId moves it in place. */
function reservedIp(name: string, urnKind: string): ResourceSpec {
  return {
    type: t(name),
    newId: (_i, ctx) => ctx.alloc.publicIpv4(),
    replaceOn: ["region"],
    validate: (inputs) => regionFailures(inputs),
    computed: (_i, ctx) => ({
      ipAddress: ctx.id,
      [`${urnKind}Urn`]: `do:${urnKind.toLowerCase()}:${ctx.id}`,
    }),
    sim: (inputs, ctx) => ({
      ...ctx.priorSim,
      status: "active",
      assignedTo:
        inputs.dropletId === undefined ? ctx.priorSim?.assignedTo : String(reveal(inputs.dropletId)),
    }),
  };
}

/** An assignment is replaced on any change; creating it moves the address, deleting it frees it (if still held). */
function ipAssignment(name: string, ipType: string): ResourceSpec {
  return {
    type: t(name),
    newId: (inputs, ctx) => `${str(inputs, "ipAddress") ?? "ip"}-${ctx.alloc.hex(12)}`,
    replaceOn: ["ipAddress", "dropletId"],
    afterWrite(inputs, ctx) {
      const ip = str(inputs, "ipAddress");
      if (ip)
        ctx.store.mutate(t(ipType), ip, (rec) => (rec.sim.assignedTo = String(reveal(inputs.dropletId))));
    },
    afterDelete(outputs, ctx) {
      const ip = str(outputs, "ipAddress");
      const droplet = String(reveal(outputs.dropletId));
      if (ip)
        ctx.store.mutate(t(ipType), ip, (rec) => {
          if (rec.sim.assignedTo === droplet) delete rec.sim.assignedTo;
        });
    },
  };
}

const loadBalancer: ResourceSpec = {
  type: t("LoadBalancer"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["region", "vpcUuid", "network", "type"],
  defaults: defaultsOf(
    autoName("name"),
    fixed({ sizeUnit: 1, redirectHttpToHttps: false, enableProxyProtocol: false }),
  ),
  validate: (inputs) => regionFailures(inputs, "region", false),
  computed: (inputs, ctx) => ({
    ip: keep(ctx, "ip", () => ctx.alloc.publicIpv4()),
    status: "active",
    loadBalancerUrn: `do:loadbalancer:${ctx.id}`,
    vpcUuid: str(inputs, "vpcUuid") ?? keep(ctx, "vpcUuid", () => ctx.alloc.uuid()),
    dropletIds: reveal(inputs.dropletIds) ?? [],
  }),
};

const volume: ResourceSpec = {
  type: t("Volume"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["region", "name", "initialFilesystemType", "initialFilesystemLabel", "snapshotId"],
  defaults: defaultsOf(autoName("name")),
  validate: (inputs) => regionFailures(inputs),
  computed: (inputs, ctx) => ({
    volumeUrn: `do:volume:${ctx.id}`,
    filesystemType: str(inputs, "initialFilesystemType") ?? "",
    filesystemLabel: str(inputs, "initialFilesystemLabel") ?? "",
    dropletIds: keep(ctx, "dropletIds", () => []),
  }),
};

const domain: ResourceSpec = simple(t("Domain"), (inputs) => str(inputs, "name") ?? "example.invalid", {
  replaceOn: ["name", "ipAddress"],
  computed: (_i, ctx) => ({ domainUrn: `do:domain:${ctx.id}`, ttl: 1800 }),
});

const dnsRecord: ResourceSpec = simple(t("DnsRecord"), (_i, ctx) => ctx.alloc.numericId(9), {
  replaceOn: ["domain", "type"],
  defaults: defaultsOf(fixed({ ttl: 1800 })),
  computed: (inputs) => {
    const name = str(inputs, "name") ?? "@";
    const domain = str(inputs, "domain") ?? "";
    return { fqdn: name === "@" ? domain : `${name}.${domain}` };
  },
});

export const digitaloceanCompute: ResourceSpec[] = [
  droplet,
  vpc,
  firewall,
  reservedIp("ReservedIp", "reservedIp"),
  reservedIp("FloatingIp", "floatingIp"),
  ipAssignment("ReservedIpAssignment", "ReservedIp"),
  ipAssignment("FloatingIpAssignment", "FloatingIp"),
  loadBalancer,
  volume,
  simple(
    t("VolumeAttachment"),
    (i, ctx) => `${reveal(i.dropletId)}-${str(i, "volumeId")}-${ctx.alloc.hex(8)}`,
    { replaceOn: ["dropletId", "volumeId"] },
  ),
  simple(t("VolumeSnapshot"), (_i, ctx) => ctx.alloc.numericId(9), {
    replaceOn: ["volumeId", "name"],
    computed: (_i, ctx) => ({
      createdAt: keep(ctx, "createdAt", nowIso),
      minDiskSize: 1,
      size: 0,
      regions: [],
    }),
  }),
  simple(t("DropletSnapshot"), (_i, ctx) => ctx.alloc.numericId(9), { replaceOn: ["dropletId", "name"] }),
  domain,
  dnsRecord,
  simple(t("VpcPeering"), (_i, ctx) => ctx.alloc.uuid(), {
    replaceOn: ["vpcIds"],
    computed: (_i, ctx) => ({ status: "ACTIVE", createdAt: keep(ctx, "createdAt", nowIso) }),
  }),
  simple(t("VpcNatGateway"), (_i, ctx) => ctx.alloc.uuid(), {
    replaceOn: ["region", "type"],
    validate: (i) => regionFailures(i),
  }),
  simple(t("SshKey"), (_i, ctx) => ctx.alloc.numericId(8), {
    replaceOn: ["publicKey"],
    computed: (_i, ctx) => ({
      fingerprint: keep(ctx, "fingerprint", () => ctx.alloc.hex(32).replace(/(..)(?!$)/g, "$1:")),
    }),
  }),
  simple(t("Tag"), (inputs) => str(inputs, "name") ?? "tag", {
    replaceOn: ["name"],
    computed: () => ({
      dropletsCount: 0,
      imagesCount: 0,
      totalResourceCount: 0,
      volumesCount: 0,
      volumeSnapshotsCount: 0,
      databasesCount: 0,
    }),
  }),
  simple(t("Project"), (_i, ctx) => ctx.alloc.uuid(), {
    defaults: defaultsOf(fixed({ purpose: "Web Application", isDefault: false })),
    computed: (_i, ctx) => ({
      ownerUuid: keep(ctx, "ownerUuid", () => ctx.alloc.uuid()),
      ownerId: 1,
      createdAt: keep(ctx, "createdAt", nowIso),
      updatedAt: keep(ctx, "updatedAt", nowIso),
    }),
  }),
  simple(t("ProjectResources"), (i) => str(i, "project") ?? "project", { replaceOn: ["project"] }),
  simple(t("DropletAutoscale"), (_i, ctx) => ctx.alloc.uuid(), {
    computed: (_i, ctx) => ({
      status: "active",
      createdAt: keep(ctx, "createdAt", nowIso),
      updatedAt: keep(ctx, "updatedAt", nowIso),
      currentUtilizations: [],
    }),
  }),
  simple(t("UptimeCheck"), (_i, ctx) => ctx.alloc.uuid(), {
    defaults: defaultsOf(fixed({ enabled: true, type: "https" })),
  }),
  simple(t("UptimeAlert"), (_i, ctx) => ctx.alloc.uuid(), { replaceOn: ["checkId"] }),
  simple(t("MonitorAlert"), (_i, ctx) => ctx.alloc.uuid(), { computed: (_i, ctx) => ({ uuid: ctx.id }) }),
];
