import type * as k8s from "@pulumi/kubernetes";
import type { WorkloadArgs } from "../components/k8s-workload";

/**
 * Requests, limits, probes and security contexts of datafruits' workloads. The RFC sizes nothing
 * below "3 droplets" (s-2vcpu-4gb, about 1.9 vCPU and 3 GiB allocatable each), so these are our
 * defaults, chosen so every pod at the stack file's replica counts fits on two of the three nodes
 * (a node can drain). Memory has a limit (an OOM kill is local and visible); CPU has none, because a
 * throttled liquidsoap or icecast drops audio where an unthrottled one only borrows idle cycles.
 */
export type WorkloadShape = Pick<
  WorkloadArgs,
  "resources" | "readinessProbe" | "livenessProbe" | "securityContext" | "podSecurityContext"
>;

const size = (
  cpu: string,
  memory: string,
  memoryLimit: string,
): k8s.types.input.core.v1.ResourceRequirements => ({
  requests: { cpu, memory },
  limits: { memory: memoryLimit },
});

/** An HTTP GET the app answers without a session (the root page). */
const httpProbe = (port: string, path = "/"): k8s.types.input.core.v1.Probe => ({
  httpGet: { path, port },
  periodSeconds: 10,
  timeoutSeconds: 3,
  failureThreshold: 3,
});

/** A TCP connect, for servers whose health path the RFC does not name or that are not HTTP. */
const tcpProbe = (port: string): k8s.types.input.core.v1.Probe => ({
  tcpSocket: { port },
  periodSeconds: 10,
  timeoutSeconds: 3,
  failureThreshold: 3,
});

const liveness = (p: k8s.types.input.core.v1.Probe): k8s.types.input.core.v1.Probe => ({
  ...p,
  // Rails and Phoenix boot slowly on a cold node; restarting them mid-boot only delays them.
  initialDelaySeconds: 30,
  periodSeconds: 20,
  failureThreshold: 6,
});

/** Images that run their server as an unprivileged user (node, ruby, beam, icecast, liquidsoap). */
const nonRoot: Pick<WorkloadShape, "securityContext" | "podSecurityContext"> = {
  podSecurityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
};

/**
 * nginx images (admin's static server on :80, nginx-rtmp) start their master as root, bind, then
 * switch to the `nginx` user: they keep only the capabilities that needs.
 */
const nginxMaster: Pick<WorkloadShape, "securityContext" | "podSecurityContext"> = {
  podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
  securityContext: {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"], add: ["CHOWN", "SETUID", "SETGID", "NET_BIND_SERVICE"] },
  },
};

const withProbes = (p: k8s.types.input.core.v1.Probe) => ({ readinessProbe: p, livenessProbe: liveness(p) });

export const WORKLOAD_SHAPES = {
  site: { resources: size("100m", "256Mi", "512Mi"), ...withProbes(httpProbe("http")), ...nonRoot },
  admin: { resources: size("50m", "64Mi", "128Mi"), ...withProbes(httpProbe("http")), ...nginxMaster },
  // streampusher-api names no health route; a connect on puma's port says puma is up.
  api: { resources: size("250m", "512Mi", "1Gi"), ...withProbes(tcpProbe("http")), ...nonRoot },
  // sidekiq listens on no port and streampusher ships no health check (no sidekiq_alive): no probe,
  // a crashed process restarts by exiting.
  sidekiq: { resources: size("250m", "512Mi", "1Gi"), ...nonRoot },
  icecast: { resources: size("100m", "128Mi", "256Mi"), ...withProbes(tcpProbe("http")), ...nonRoot },
  // Liquidsoap refuses to run as root.
  liquidsoap: { resources: size("250m", "256Mi", "512Mi"), ...withProbes(tcpProbe("harbor")), ...nonRoot },
  rtmp: { resources: size("250m", "128Mi", "512Mi"), ...withProbes(tcpProbe("rtmp")), ...nginxMaster },
  chat: { resources: size("100m", "256Mi", "512Mi"), ...withProbes(tcpProbe("http")), ...nonRoot },
} satisfies Record<string, WorkloadShape>;
