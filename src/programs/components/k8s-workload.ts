import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { siteLabels, type SiteContext } from "../site-context";

export interface WorkloadPort {
  name: string;
  port: number;
  protocol?: "TCP" | "UDP";
}

export interface WorkloadArgs {
  ctx: SiteContext;
  namespace: pulumi.Input<string>;
  image: string;
  replicas: number;
  ports?: WorkloadPort[];
  args?: string[];
  env?: Record<string, string>;
  /** ConfigMaps / Secrets whose keys become environment variables. */
  envFrom?: { configMap?: pulumi.Input<string>; secret?: pulumi.Input<string> }[];
  /** Variables read from a Secret the operators create outside the program (e.g. an Erlang cookie). */
  secretEnv?: Record<string, { secret: string; key: string }>;
  /** Single-source workloads (liquidsoap, the sidekiq scheduler) must never run two pods, even during a rollout. */
  recreate?: boolean;
  serviceAccountName?: pulumi.Input<string>;
  /** A headless Service beside the normal one, for peer discovery (libcluster). */
  headless?: boolean;
  /** Keep at least this many pods through node drains. */
  minAvailable?: number;
  /** Container requests and limits. @defaultValue none (the scheduler packs the pod blind) */
  resources?: k8s.types.input.core.v1.ResourceRequirements;
  /** @defaultValue none */
  readinessProbe?: k8s.types.input.core.v1.Probe;
  /** @defaultValue none */
  livenessProbe?: k8s.types.input.core.v1.Probe;
  /** The container's securityContext. @defaultValue none (the image's user and the runtime's defaults) */
  securityContext?: k8s.types.input.core.v1.SecurityContext;
  /** The pod's securityContext. @defaultValue none */
  podSecurityContext?: k8s.types.input.core.v1.PodSecurityContext;
  /**
   * Annotations on the pod template. A change here rolls the pods, so a checksum of the config the
   * pods read at start (envFrom) belongs here. @defaultValue none
   */
  podAnnotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A Kubernetes workload: a Deployment, a ClusterIP Service when it has ports, and optionally a
 * headless Service and a PodDisruptionBudget. Labels carry the site's tags.
 */
export class Workload extends pulumi.ComponentResource {
  readonly serviceName?: pulumi.Output<string>;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:k8s:Workload", name, {}, opts);
    const child = { parent: this };
    const labels = { ...siteLabels(args.ctx, name), app: name };
    const selector = { app: name };
    const metadata = { name, namespace: args.namespace, labels };
    const ports = args.ports ?? [];
    new k8s.apps.v1.Deployment(
      name,
      {
        metadata,
        spec: {
          replicas: args.replicas,
          selector: { matchLabels: selector },
          strategy: args.recreate ? { type: "Recreate" } : { type: "RollingUpdate" },
          template: {
            metadata: { labels, annotations: args.podAnnotations },
            spec: {
              serviceAccountName: args.serviceAccountName,
              securityContext: args.podSecurityContext,
              containers: [
                {
                  name,
                  image: args.image,
                  args: args.args,
                  resources: args.resources,
                  readinessProbe: args.readinessProbe,
                  livenessProbe: args.livenessProbe,
                  securityContext: args.securityContext,
                  ports: ports.map((p) => ({
                    name: p.name,
                    containerPort: p.port,
                    protocol: p.protocol ?? "TCP",
                  })),
                  env: [
                    ...Object.entries(args.env ?? {}).map(([k, value]) => ({ name: k, value })),
                    ...Object.entries(args.secretEnv ?? {}).map(([k, ref]) => ({
                      name: k,
                      valueFrom: { secretKeyRef: { name: ref.secret, key: ref.key } },
                    })),
                  ],
                  envFrom: (args.envFrom ?? []).map((e) =>
                    e.configMap
                      ? { configMapRef: { name: e.configMap } }
                      : { secretRef: { name: e.secret! } },
                  ),
                },
              ],
            },
          },
        },
      },
      child,
    );
    if (ports.length > 0) {
      const svc = new k8s.core.v1.Service(
        name,
        {
          metadata,
          spec: {
            type: "ClusterIP",
            selector,
            ports: ports.map((p) => ({
              name: p.name,
              port: p.port,
              targetPort: p.port,
              protocol: p.protocol ?? "TCP",
            })),
          },
        },
        child,
      );
      this.serviceName = svc.metadata.name;
    }
    if (args.headless) {
      new k8s.core.v1.Service(
        `${name}-headless`,
        {
          metadata: { ...metadata, name: `${name}-headless` },
          spec: { clusterIP: "None", selector, ports: ports.map((p) => ({ name: p.name, port: p.port })) },
        },
        child,
      );
    }
    if (args.minAvailable !== undefined) {
      new k8s.policy.v1.PodDisruptionBudget(
        name,
        { metadata, spec: { minAvailable: args.minAvailable, selector: { matchLabels: selector } } },
        child,
      );
    }
    this.registerOutputs({ serviceName: this.serviceName });
  }
}
