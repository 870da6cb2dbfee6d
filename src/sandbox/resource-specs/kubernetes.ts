import * as crypto from "node:crypto";
import { Props, getPath, reveal, str } from "../property-values";
import { ResourceSpec, SpecContext, keep, nowIso } from "./spec";

// Kubernetes objects, as the kubernetes provider reports them: the id is `namespace/name` (just
// `name` for cluster-scoped kinds), metadata.name and metadata.namespace force replacement, and an
// object the provider named itself carries the `pulumi.com/autonamed` annotation; one the program
// named is replaced delete-first (two objects cannot share a name). Workloads record
// spec.replicas as desired and ready replicas in the simulated state.

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "StorageClass",
  "PersistentVolume",
  "CustomResourceDefinition",
  "PriorityClass",
]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "ReplicaSet"]);
const AUTONAMED = "pulumi.com/autonamed";

/** Immutable fields per kind beyond name/namespace (the API server rejects changing them). */
const IMMUTABLE: Record<string, string[]> = {
  Deployment: ["spec.selector"],
  StatefulSet: ["spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"],
  DaemonSet: ["spec.selector"],
  Service: ["spec.clusterIP"],
  PersistentVolumeClaim: ["spec.storageClassName", "spec.accessModes", "spec.volumeName"],
  Job: ["spec.template", "spec.selector"],
  PodDisruptionBudget: [],
};

function metadataOf(inputs: Props): Props {
  return (reveal(inputs.metadata) as Props | undefined) ?? {};
}

function objectId(kind: string, meta: Props): string {
  const name = String(meta.name ?? "unnamed");
  return CLUSTER_SCOPED.has(kind) ? name : `${String(meta.namespace ?? "default")}/${name}`;
}

function status(kind: string, inputs: Props, ctx: SpecContext): Props | undefined {
  const replicas = Number(getPath(inputs, "spec.replicas") ?? 1);
  if (WORKLOADS.has(kind)) {
    return {
      replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      updatedReplicas: replicas,
      observedGeneration: 1,
      conditions: [{ type: "Available", status: "True" }],
    };
  }
  if (kind === "Service" && getPath(inputs, "spec.type") === "LoadBalancer") {
    return { loadBalancer: { ingress: [{ ip: keep(ctx, "lbIp", () => ctx.alloc.publicIpv4()) }] } };
  }
  if (kind === "PersistentVolumeClaim") return { phase: "Bound" };
  if (kind === "Namespace") return { phase: "Active" };
  return undefined;
}

function k8s(groupVersion: string, kind: string): ResourceSpec {
  const immutable = IMMUTABLE[kind] ?? [];
  return {
    type: `kubernetes:${groupVersion}:${kind}`,
    newId: (inputs) => objectId(kind, metadataOf(inputs)),
    replaceOn: ["metadata.name", "metadata.namespace", ...immutable],
    deleteBeforeReplace: (news) =>
      ((metadataOf(news).annotations as Props | undefined) ?? {})[AUTONAMED] !== "true",
    defaults(news, olds, ctx) {
      const meta = metadataOf(news);
      if (meta.name !== undefined) return {};
      // Autoname like the provider: keep the old name, or `<logical name>-<8 random chars>`.
      const oldMeta = olds ? metadataOf(olds) : {};
      const name =
        typeof oldMeta.name === "string"
          ? oldMeta.name
          : `${ctx.name}-${crypto.randomBytes(4).toString("hex")}`;
      return {
        metadata: {
          ...((news.metadata as Props) ?? {}),
          name,
          annotations: { ...((meta.annotations as Props) ?? {}), [AUTONAMED]: "true" },
        },
      };
    },
    validate(inputs) {
      const name = metadataOf(inputs).name;
      if (typeof name === "string" && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name))
        return [{ property: "metadata.name", reason: `invalid object name "${name}" (RFC 1123)` }];
      return [];
    },
    computed(inputs, ctx) {
      const meta = metadataOf(inputs);
      const prior = (reveal(ctx.prior?.metadata) as Props | undefined) ?? {};
      const out: Props = {
        metadata: {
          ...((inputs.metadata as Props) ?? {}),
          ...(CLUSTER_SCOPED.has(kind) ? {} : { namespace: meta.namespace ?? "default" }),
          uid: prior.uid ?? ctx.alloc.uuid(),
          creationTimestamp: prior.creationTimestamp ?? nowIso(),
          resourceVersion: String(ctx.alloc.numericId(6)),
          generation: Number(prior.generation ?? 0) + 1,
        },
      };
      const st = status(kind, inputs, ctx);
      if (st) out.status = st;
      if (kind === "Service") {
        out.spec = {
          ...((inputs.spec as Props) ?? {}),
          clusterIP:
            str((inputs.spec as Props) ?? {}, "clusterIP") ??
            keep(ctx, "clusterIP", () => ctx.alloc.privateIpv4("10.245.0.0/16")),
        };
      }
      return out;
    },
    sim(inputs, ctx) {
      if (!WORKLOADS.has(kind)) return { ...ctx.priorSim, status: "ready" };
      const replicas = Number(getPath(inputs, "spec.replicas") ?? 1);
      return { ...ctx.priorSim, status: "ready", replicas, readyReplicas: replicas };
    },
  };
}

const helmRelease: ResourceSpec = {
  type: "kubernetes:helm.sh/v3:Release",
  newId: (inputs) => `${str(inputs, "namespace") ?? "default"}/${str(inputs, "name") ?? "release"}`,
  replaceOn: ["name", "namespace"],
  defaults: (news, olds, ctx) =>
    news.name !== undefined
      ? {}
      : { name: str(olds ?? {}, "name") ?? `${ctx.name}-${crypto.randomBytes(4).toString("hex")}` },
  computed: (inputs, ctx) => ({
    status: {
      name: str(inputs, "name"),
      namespace: str(inputs, "namespace") ?? "default",
      chart: str(inputs, "chart"),
      version: str(inputs, "version") ?? "0.0.0",
      appVersion: str(inputs, "version") ?? "0.0.0",
      revision: Number((reveal(ctx.prior?.status) as Props | undefined)?.revision ?? 0) + 1,
      status: "deployed",
    },
  }),
};

const KINDS: Array<[string, string[]]> = [
  ["apps/v1", ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]],
  [
    "core/v1",
    [
      "Service",
      "ConfigMap",
      "Secret",
      "Namespace",
      "PersistentVolumeClaim",
      "PersistentVolume",
      "ServiceAccount",
      "Pod",
    ],
  ],
  ["networking.k8s.io/v1", ["Ingress", "NetworkPolicy", "IngressClass"]],
  ["autoscaling/v2", ["HorizontalPodAutoscaler"]],
  ["autoscaling/v1", ["HorizontalPodAutoscaler"]],
  ["policy/v1", ["PodDisruptionBudget"]],
  ["batch/v1", ["CronJob", "Job"]],
  ["rbac.authorization.k8s.io/v1", ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]],
  ["storage.k8s.io/v1", ["StorageClass"]],
  ["scheduling.k8s.io/v1", ["PriorityClass"]],
];

export const kubernetesSpecs: ResourceSpec[] = [
  ...KINDS.flatMap(([gv, kinds]) => kinds.map((k) => k8s(gv, k))),
  helmRelease,
];
