import * as YAML from "yaml";
import { Props, reveal, str } from "../property-values";
import type { InvokeFn } from "../sandbox-provider";
import { AWS_ACCOUNT, awsRegion } from "./aws";
import { DO_REGIONS, allSizes } from "./digitalocean-catalog";
import { linodeType } from "./linode";

// The data sources (invokes) the programs and the cost/limit guards call, answered from the
// simulated cloud or from the catalog the sandbox keeps.

const doType = (name: string) => `digitalocean:index/${name}:${name}`;

export const digitaloceanInvokes: Record<string, InvokeFn> = {
  [doType("getSizes")]: () => ({ id: "sizes", sizes: allSizes() }),
  [doType("getAccount")]: () => ({
    id: "account",
    dropletLimit: 25,
    floatingIpLimit: 3,
    volumeLimit: 100,
    email: "sandbox@example.com",
    emailVerified: true,
    status: "active",
    statusMessage: "",
    uuid: "00000000-0000-4000-8000-000000000000",
  }),
  [doType("getRegion")]: (args) => {
    const slug = str(args, "slug") ?? "nyc3";
    if (!DO_REGIONS.includes(slug)) throw new Error(`digitalocean: region ${slug} not found`);
    return {
      id: slug,
      slug,
      name: slug.toUpperCase(),
      available: true,
      features: ["backups", "ipv6", "metadata", "storage"],
      sizes: allSizes().map((s) => s.slug),
    };
  },
  [doType("getRegions")]: () => ({
    id: "regions",
    regions: DO_REGIONS.map((slug) => ({
      slug,
      name: slug.toUpperCase(),
      available: true,
      features: [],
      sizes: [],
    })),
  }),
  [doType("getDatabaseReplica")]: (args, { store }) => {
    const id = `${str(args, "clusterId")}/replicas/${str(args, "name")}`;
    const rec = store.get("digitalocean:index/databaseReplica:DatabaseReplica", id);
    if (!rec) throw new Error(`digitalocean: database replica ${str(args, "name")} not found`);
    return { ...rec.outputs, id };
  },
  [doType("getDroplets")]: (_args, { store }) => ({
    id: "droplets",
    droplets: store
      .list("digitalocean:index/droplet:Droplet")
      .map((r) => ({ ...r.outputs, id: Number(r.id) })),
  }),
  [doType("getKubernetesVersions")]: (args) => ({
    id: "versions",
    latestVersion: "1.33.1-do.0",
    validVersions: ["1.33.1-do.0", "1.32.5-do.0", "1.31.9-do.0"],
    versionPrefix: str(args, "versionPrefix"),
  }),
};

export const linodeInvokes: Record<string, InvokeFn> = {
  "linode:index/getInstanceType:getInstanceType": (args) => {
    const id = str(args, "id") ?? "";
    const type = linodeType(id);
    if (!type) throw new Error(`linode: type ${id} not found`);
    return {
      id,
      label: id,
      memory: type.memory,
      vcpus: type.vcpus,
      disk: (type.memory / 1024) * 25 * 1024,
      class: id.includes("dedicated") ? "dedicated" : "standard",
      price: { hourly: type.monthly / 730, monthly: type.monthly },
      prices: [{ hourly: type.monthly / 730, monthly: type.monthly }],
      addons: [
        {
          backups: [
            {
              price: { hourly: 0, monthly: type.monthly / 5 },
              prices: [{ hourly: 0, monthly: type.monthly / 5 }],
            },
          ],
        },
      ],
    };
  },
};

export const hcloudInvokes: Record<string, InvokeFn> = {
  "hcloud:index/getServerType:getServerType": (args) => {
    const name = str(args, "name") ?? "cx22";
    const n = Number(/\d+/.exec(name)?.[0] ?? 22);
    return {
      id: n,
      name,
      cores: Math.max(2, Math.floor(n / 10) * 2),
      memory: Math.max(4, Math.floor(n / 10) * 4),
      disk: n * 4,
      architecture: name.startsWith("cax") ? "arm" : "x86",
      cpuType: name.startsWith("ccx") ? "dedicated" : "shared",
      storageType: "local",
      description: name.toUpperCase(),
      isDeprecated: false,
      includedTraffic: 20 * 1024 ** 4,
    };
  },
};

export const awsInvokes: Record<string, InvokeFn> = {
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    id: AWS_ACCOUNT,
    accountId: AWS_ACCOUNT,
    arn: `arn:aws:iam::${AWS_ACCOUNT}:user/sandbox`,
    userId: "AIDASANDBOX000000000",
  }),
  "aws:index/getRegion:getRegion": (_a, { config }) => ({
    id: awsRegion(config),
    name: awsRegion(config),
    region: awsRegion(config),
    description: awsRegion(config),
    endpoint: `ec2.${awsRegion(config)}.amazonaws.com`,
  }),
  "aws:index/getPartition:getPartition": () => ({
    id: "aws",
    partition: "aws",
    dnsSuffix: "amazonaws.com",
    reverseDnsPrefix: "com.amazonaws",
  }),
  "aws:iam/getPolicyDocument:getPolicyDocument": (args) => ({
    id: "policy",
    json: policyJson(args),
    minifiedJson: JSON.stringify(JSON.parse(policyJson(args))),
  }),
};

/** Renders getPolicyDocument's statements the way the provider does (IAM JSON, Version 2012-10-17). */
function policyJson(args: Props): string {
  const statements = ((reveal(args.statements) as Props[] | undefined) ?? []).map((s) => {
    const out: Props = {};
    if (s.sid) out.Sid = s.sid;
    out.Effect = s.effect ?? "Allow";
    const one = (v: unknown) => (Array.isArray(v) && v.length === 1 ? v[0] : v);
    if (s.actions) out.Action = one(s.actions);
    if (s.notActions) out.NotAction = one(s.notActions);
    if (s.resources) out.Resource = one(s.resources);
    if (s.notResources) out.NotResource = one(s.notResources);
    if (Array.isArray(s.principals)) {
      out.Principal = Object.fromEntries(
        (s.principals as Props[]).map((p) => [String(p.type), one(p.identifiers)]),
      );
    }
    if (Array.isArray(s.conditions)) {
      const cond: Record<string, Props> = {};
      for (const c of s.conditions as Props[])
        (cond[String(c.test)] ??= {})[String(c.variable)] = one(c.values);
      out.Condition = cond;
    }
    return out;
  });
  return JSON.stringify({ Version: "2012-10-17", Statement: statements }, null, 2);
}

export const kubernetesInvokes: Record<string, InvokeFn> = {
  "kubernetes:yaml:decode": (args) => ({
    result: YAML.parseAllDocuments(str(args, "text") ?? "")
      .map((d) => d.toJS())
      .filter((o) => o !== null),
  }),
};
