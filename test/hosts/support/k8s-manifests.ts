import * as YAML from "yaml";
import type { Run } from "../../programs/support/harness";

// Kubernetes objects as the kubernetes provider would send them: no kubectl can read them here
// (it needs an API server for its schema and mapping), so the objects are laid out as one YAML
// stream, parsed back as the API server's decoder would, and their cross references resolved.

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  data?: Record<string, string>;
}

/** Every Kubernetes object of a run, rendered to one multi-document YAML stream. */
export function renderManifests(run: Run): string {
  const docs = [...run.resources.values()]
    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
    .map((r) => YAML.stringify(r.inputs));
  return docs.join("---\n");
}

/** Parses a YAML stream into objects, refusing any document that is not a well-formed object. */
export function parseManifests(stream: string): Manifest[] {
  return YAML.parseAllDocuments(stream).map((d, i) => {
    if (d.errors.length > 0) throw new Error(`document ${i}: ${d.errors.map((e) => e.message).join("; ")}`);
    const o = d.toJS() as Manifest;
    for (const f of ["apiVersion", "kind"] as const)
      if (typeof o[f] !== "string") throw new Error(`document ${i}: no ${f}`);
    if (typeof o.metadata?.name !== "string") throw new Error(`document ${i} (${o.kind}): no metadata.name`);
    return o;
  });
}

const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * A resource quantity's value, by the grammar of k8s.io/apimachinery's `resource.ParseQuantity`
 * (a signed decimal, then a binary suffix, a decimal suffix or an exponent); throws where the API
 * server would refuse the object.
 */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/.exec(q);
  if (!m) throw new Error(`quantities must match the regular expression: "${q}"`);
  const n = Number(m[1]);
  return m[2] ? n * 10 ** Number(m[2].slice(1)) : n * SUFFIX[m[3] ?? ""]!;
}

/** A Deployment's pod spec and its template labels. */
export function podsOf(m: Manifest): { labels: Record<string, string>; spec: any } {
  return { labels: m.spec.template.metadata.labels ?? {}, spec: m.spec.template.spec };
}

/** True when every key of `selector` has the same value in `labels` (a Service's selection). */
export function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** A probe's or Service's port resolved against a container's ports (a name or a number). */
export function resolvePort(port: string | number, container: any): number | undefined {
  const ports: Array<{ name?: string; containerPort: number }> = container.ports ?? [];
  return typeof port === "number"
    ? ports.find((p) => p.containerPort === port)?.containerPort
    : ports.find((p) => p.name === port)?.containerPort;
}
