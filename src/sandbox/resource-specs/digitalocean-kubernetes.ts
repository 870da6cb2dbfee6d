import { Props, reveal, secret, str } from "../property-values";
import { dropletSize } from "./digitalocean-catalog";
import { regionFailures } from "./digitalocean";
import { ResourceSpec, SpecContext, autoName, defaultsOf, fixed, keep, nowIso, remember } from "./spec";

// DigitalOcean Kubernetes (DOKS): a cluster's region, name, VPC and subnets force replacement;
// version and the node pool's node count update in place (nodes are kept, added or removed).

const t = (name: string) => `digitalocean:index/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;

const kubeconfig = (ctx: SpecContext, name: string, endpoint: string) => {
  // The token carries the sandbox marker, so mode-guard.ts can tell a simulated cluster's kubeconfig from a real one.
  const token = remember(ctx, "kubeToken", () => `stackyard-sandbox-${ctx.alloc.hex(40)}`);
  const ca = Buffer.from(`sandbox CA for ${name}`).toString("base64");
  const raw = [
    "apiVersion: v1",
    "kind: Config",
    `clusters:\n- cluster:\n    certificate-authority-data: ${ca}\n    server: ${endpoint}\n  name: do-${name}`,
    `contexts:\n- context:\n    cluster: do-${name}\n    user: do-${name}-admin\n  name: do-${name}`,
    `current-context: do-${name}`,
    `users:\n- name: do-${name}-admin\n  user:\n    token: ${token}`,
  ].join("\n");
  return {
    kubeConfigs: secret([
      { rawConfig: raw, host: endpoint, token, clusterCaCertificate: ca, expiresAt: "2099-01-01T00:00:00Z" },
    ]),
  };
};

function poolNodes(ctx: SpecContext, priorPool: Props | undefined, pool: Props, name: string) {
  const count = Number(reveal(pool.nodeCount) ?? reveal(pool.minNodes) ?? 1);
  const prior = priorPool?.nodes as Props[] | undefined;
  const nodes = Array.from(
    { length: count },
    (_, i) =>
      prior?.[i] ?? {
        id: ctx.alloc.uuid(),
        name: `${name}-${ctx.alloc.hex(5)}`,
        status: "running",
        dropletId: ctx.alloc.numericId(9),
        createdAt: nowIso(),
        updatedAt: nowIso(),
      },
  );
  return { ...pool, id: priorPool?.id ?? ctx.alloc.uuid(), actualNodeCount: count, nodes };
}

const kubernetesCluster: ResourceSpec = {
  type: t("KubernetesCluster"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["region", "name", "vpcUuid", "clusterSubnet", "serviceSubnet"],
  defaults: defaultsOf(
    autoName("name"),
    fixed({ ha: false, autoUpgrade: false, surgeUpgrade: true, registryIntegration: false }),
  ),
  validate(inputs) {
    const failures = regionFailures(inputs);
    const size = str((reveal(inputs.nodePool) as Props | undefined) ?? {}, "size");
    if (size !== undefined && !dropletSize(size))
      failures.push({ property: "nodePool.size", reason: `unknown droplet size "${size}"` });
    return failures;
  },
  computed(inputs, ctx) {
    const endpoint = `https://${ctx.id}.k8s.ondigitalocean.com`;
    return {
      endpoint,
      ipv4Address: keep(ctx, "ipv4Address", () => ctx.alloc.publicIpv4()),
      status: "running",
      clusterUrn: `do:kubernetes:${ctx.id}`,
      clusterSubnet: str(inputs, "clusterSubnet") ?? "10.244.0.0/16",
      serviceSubnet: str(inputs, "serviceSubnet") ?? "10.245.0.0/16",
      vpcUuid: str(inputs, "vpcUuid") ?? keep(ctx, "vpcUuid", () => ctx.alloc.uuid()),
      createdAt: keep(ctx, "createdAt", nowIso),
      updatedAt: keep(ctx, "updatedAt", nowIso),
      nodePool: poolNodes(
        ctx,
        reveal(ctx.prior?.nodePool) as Props | undefined,
        (reveal(inputs.nodePool) as Props) ?? {},
        "pool",
      ),
      ...kubeconfig(ctx, str(inputs, "name") ?? ctx.name, endpoint),
    };
  },
  sim: (_i, ctx) => ({ ...ctx.priorSim, status: "running" }),
};

const kubernetesNodePool: ResourceSpec = {
  type: t("KubernetesNodePool"),
  newId: (_i, ctx) => ctx.alloc.uuid(),
  replaceOn: ["clusterId", "name", "size"],
  defaults: defaultsOf(autoName("name")),
  computed(inputs, ctx) {
    const pool = poolNodes(
      ctx,
      reveal(ctx.prior) as Props | undefined,
      reveal(inputs) as Props,
      str(inputs, "name") ?? ctx.name,
    );
    return { actualNodeCount: pool.actualNodeCount, nodes: pool.nodes };
  },
};

export const digitaloceanKubernetes: ResourceSpec[] = [kubernetesCluster, kubernetesNodePool];
