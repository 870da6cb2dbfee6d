import { Props, reveal, str } from "../property-values";
import { SimulatedApiError } from "../fault-plan";
import { hostSim } from "./db-roles";
import { ResourceSpec, defaultsOf, fixed, keep, nowIso, simple } from "./spec";

// Hetzner Cloud. A server's location, datacenter, image, userData and sshKeys force replacement;
// serverType, labels, backups and protection flags update in place. Resources with
// deleteProtection refuse deletion like the real API (403 "protected").

const t = (name: string) => `hcloud:index/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;
const LOCATIONS = ["fsn1", "nbg1", "hel1", "ash", "hil", "sin"];
const numeric =
  (digits: number): ResourceSpec["newId"] =>
  (_i, ctx) =>
    ctx.alloc.numericId(digits);

function locationCheck(inputs: Props, key = "location") {
  const l = str(inputs, key);
  return l === undefined || LOCATIONS.includes(l)
    ? []
    : [{ property: key, reason: `unknown Hetzner location "${l}"` }];
}

/** Labels as "key:value" strings, so database roles read the same way as DigitalOcean tags. */
function labelTags(inputs: Props): string[] {
  const labels = reveal(inputs.labels);
  if (typeof labels !== "object" || labels === null) return [];
  return Object.entries(labels as Props).map(([k, v]) => `${k}:${String(v)}`);
}

function refuseIfProtected(outputs: Props, ctx: { id: string }) {
  if (reveal(outputs.deleteProtection) === true) {
    throw new SimulatedApiError(
      403,
      `hcloud: resource ${ctx.id} is protected (deleteProtection); disable it before deleting`,
    );
  }
}

const SERVER_TYPE = /^(cx|cpx|cax|ccx)(\d{2})$/;

const server: ResourceSpec = {
  type: t("Server"),
  newId: numeric(8),
  replaceOn: ["location", "datacenter", "image", "userData", "sshKeys", "placementGroupId"],
  defaults: defaultsOf(
    fixed({ backups: false, deleteProtection: false, rebuildProtection: false, keepDisk: false }),
  ),
  validate(inputs) {
    const failures = locationCheck(inputs);
    const type = str(inputs, "serverType");
    if (inputs.serverType === undefined)
      failures.push({ property: "serverType", reason: "serverType is required" });
    else if (type !== undefined && !SERVER_TYPE.test(type))
      failures.push({ property: "serverType", reason: `unknown server type "${type}"` });
    return failures;
  },
  computed(inputs, ctx) {
    const location = str(inputs, "location") ?? "fsn1";
    const size = Number(SERVER_TYPE.exec(str(inputs, "serverType") ?? "")?.[2] ?? 22);
    return {
      status: "running",
      location,
      datacenter: `${location}-dc14`,
      ipv4Address: keep(ctx, "ipv4Address", () => ctx.alloc.publicIpv4()),
      ipv6Address: keep(ctx, "ipv6Address", () => ctx.alloc.ipv6()),
      ipv6Network: keep(ctx, "ipv6Network", () => `${ctx.alloc.ipv6().replace(/::1$/, "::")}/64`),
      primaryDiskSize: size * 4,
      backupWindow: reveal(inputs.backups) === true ? "22-02" : "",
      firewallIds: reveal(inputs.firewallIds) ?? [],
      iso: "",
      rescue: "",
    };
  },
  sim: (inputs, ctx) => hostSim("running", labelTags(inputs), ctx.priorSim),
  beforeDelete: refuseIfProtected,
};

const floatingIp: ResourceSpec = {
  type: t("FloatingIp"),
  newId: numeric(7),
  replaceOn: ["type", "homeLocation"],
  defaults: defaultsOf(fixed({ deleteProtection: false })),
  validate: (inputs) => locationCheck(inputs, "homeLocation"),
  computed: (inputs, ctx) => {
    const ip = keep(ctx, "ipAddress", () =>
      str(inputs, "type") === "ipv6" ? ctx.alloc.ipv6() : ctx.alloc.publicIpv4(),
    );
    return {
      ipAddress: ip,
      ipNetwork: str(inputs, "type") === "ipv6" ? `${ip}/64` : `${ip}/32`,
      homeLocation: str(inputs, "homeLocation") ?? "fsn1",
    };
  },
  sim: (inputs, ctx) => ({
    ...ctx.priorSim,
    status: "active",
    assignedTo: inputs.serverId === undefined ? ctx.priorSim?.assignedTo : String(reveal(inputs.serverId)),
  }),
  beforeDelete: refuseIfProtected,
};

// hcloud's FloatingIpAssignment updates serverId in place: the IP moves without a gap.
const floatingIpAssignment: ResourceSpec = {
  type: t("FloatingIpAssignment"),
  newId: (i) => String(reveal(i.floatingIpId)),
  replaceOn: ["floatingIpId"],
  afterWrite(inputs, ctx) {
    ctx.store.mutate(
      t("FloatingIp"),
      String(reveal(inputs.floatingIpId)),
      (rec) => (rec.sim.assignedTo = String(reveal(inputs.serverId))),
    );
  },
  afterDelete(outputs, ctx) {
    ctx.store.mutate(
      t("FloatingIp"),
      String(reveal(outputs.floatingIpId)),
      (rec) => delete rec.sim.assignedTo,
    );
  },
};

const primaryIp: ResourceSpec = {
  type: t("PrimaryIp"),
  newId: numeric(8),
  replaceOn: ["type", "datacenter", "location", "assigneeType"],
  defaults: defaultsOf(fixed({ deleteProtection: false, assigneeType: "server" })),
  computed: (inputs, ctx) => {
    const ip = keep(ctx, "ipAddress", () =>
      str(inputs, "type") === "ipv6" ? ctx.alloc.ipv6() : ctx.alloc.publicIpv4(),
    );
    return {
      ipAddress: ip,
      ipNetwork: str(inputs, "type") === "ipv6" ? `${ip}/64` : "",
      datacenter: str(inputs, "datacenter") ?? "fsn1-dc14",
      assigneeId: reveal(inputs.assigneeId) ?? 0,
    };
  },
  beforeDelete: refuseIfProtected,
};

export const hcloudSpecs: ResourceSpec[] = [
  server,
  simple(t("Network"), numeric(7), {
    replaceOn: ["ipRange"],
    defaults: defaultsOf(fixed({ deleteProtection: false, exposeRoutesToVswitch: false })),
    beforeDelete: refuseIfProtected,
  }),
  simple(t("NetworkSubnet"), (i) => `${reveal(i.networkId)}-${str(i, "ipRange") ?? ""}`, {
    replaceOn: ["networkId", "type", "networkZone", "ipRange", "vswitchId"],
    computed: (inputs) => ({ gateway: (str(inputs, "ipRange") ?? "10.0.0.0/24").replace(/\.0\/\d+$/, ".1") }),
  }),
  simple(t("NetworkRoute"), (i) => `${reveal(i.networkId)}-${str(i, "destination") ?? ""}`, {
    replaceOn: ["networkId", "destination"],
  }),
  simple(t("ServerNetwork"), (i) => `${reveal(i.serverId)}-${reveal(i.networkId ?? i.subnetId)}`, {
    replaceOn: ["serverId", "networkId", "subnetId", "ip"],
    computed: (inputs, ctx) => ({
      ip: str(inputs, "ip") ?? keep(ctx, "ip", () => ctx.alloc.privateIpv4("10.0.0.0/16")),
      macAddress: keep(ctx, "macAddress", () => `86:00:00:${ctx.alloc.hex(6).replace(/(..)(?!$)/g, "$1:")}`),
    }),
  }),
  simple(t("Firewall"), numeric(7), { computed: () => ({ applyTos: [] }) }),
  simple(t("FirewallAttachment"), numeric(7), { replaceOn: ["firewallId"] }),
  simple(t("Volume"), numeric(8), {
    replaceOn: ["location", "format"],
    defaults: defaultsOf(fixed({ deleteProtection: false })),
    validate: (i) => locationCheck(i),
    computed: (_i, ctx) => ({ linuxDevice: `/dev/disk/by-id/scsi-0HC_Volume_${ctx.id}` }),
    beforeDelete: refuseIfProtected,
  }),
  simple(t("VolumeAttachment"), numeric(8), { replaceOn: ["volumeId", "serverId"] }),
  floatingIp,
  floatingIpAssignment,
  primaryIp,
  simple(t("PlacementGroup"), numeric(6), { replaceOn: ["type"], computed: () => ({ servers: [] }) }),
  simple(
    t("Rdns"),
    (i) =>
      `${reveal(i.serverId ?? i.floatingIpId ?? i.primaryIpId ?? i.loadBalancerId)}-${str(i, "ipAddress") ?? ""}`,
    { replaceOn: ["serverId", "floatingIpId", "primaryIpId", "loadBalancerId", "ipAddress"] },
  ),
  simple(t("LoadBalancer"), numeric(6), {
    replaceOn: ["location", "networkZone"],
    computed: (_i, ctx) => ({
      ipv4: keep(ctx, "ipv4", () => ctx.alloc.publicIpv4()),
      ipv6: keep(ctx, "ipv6", () => ctx.alloc.ipv6()),
      networkId: 0,
      networkIp: "",
    }),
  }),
  simple(t("LoadBalancerNetwork"), numeric(6), { replaceOn: ["loadBalancerId", "networkId", "subnetId"] }),
  simple(t("LoadBalancerService"), (i) => `${reveal(i.loadBalancerId)}__${reveal(i.listenPort) ?? 80}`, {
    replaceOn: ["loadBalancerId", "protocol"],
  }),
  simple(t("LoadBalancerTarget"), (i, ctx) => `lb-target-${reveal(i.loadBalancerId)}-${ctx.alloc.hex(6)}`, {
    replaceOn: ["loadBalancerId", "type"],
  }),
  simple(t("Snapshot"), numeric(8), { replaceOn: ["serverId"] }),
  simple(t("SshKey"), numeric(7), {
    replaceOn: ["publicKey"],
    computed: (_i, ctx) => ({
      fingerprint: keep(ctx, "fingerprint", () => ctx.alloc.hex(32).replace(/(..)(?!$)/g, "$1:")),
    }),
  }),
  simple(t("Certificate"), numeric(7), {
    computed: (_i, ctx) => ({ created: keep(ctx, "created", nowIso), type: "uploaded" }),
  }),
];
