import { hasSecretSignature } from "../infra/secret-signature";
import { isSecretKey, REDACTED } from "../infra/observability/redact";

/** One property of one resource whose value in the cloud is not the one the engine's state holds. */
export interface DriftedProperty {
  urn: string;
  type: string;
  /** The resource's logical name (last URN segment). */
  name: string;
  /** A top-level property of the resource (`size`, `inboundRules`). */
  property: string;
  /** What the state says (what the last update applied), shortened and redacted. */
  expected: unknown;
  /** What the cloud says now. */
  found: unknown;
}

/** A resource the state holds that the cloud no longer has (deleted in the console). */
export interface DeletedResource {
  urn: string;
  type: string;
  name: string;
}

/** What one detection found: every drifted property and every resource gone out of band. */
export interface DriftReport {
  site: string;
  operationId: string;
  detectedAt: string;
  /** Distinct resources named below (a resource with two drifted properties counts once). */
  resources: number;
  drifted: DriftedProperty[];
  deleted: DeletedResource[];
  /** What the detection did about it (the site's `remediate` setting). */
  remediation: "none" | "refreshed" | "revert-requested";
}

/** The last URN segment: the name the program gave the resource. */
export function resourceName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/** The short type a reader knows (`digitalocean:index/droplet:Droplet` → `droplet`). */
export function shortType(type: string): string {
  const m = /\/([A-Za-z0-9]+):[A-Za-z0-9]+$/.exec(type);
  return m ? m[1]! : type;
}

const MAX_VALUE_CHARS = 300;

/**
 * A value as a report keeps it: secret-named properties and engine secrets never, long values
 * shortened (a report is for reading; the cloud and the state hold the whole value).
 */
export function reportValue(property: string, v: unknown, known: readonly string[] = []): unknown {
  if (isSecretKey(property)) return REDACTED;
  if (isEngineSecret(v)) return REDACTED;
  let s = JSON.stringify(v ?? null);
  for (const k of known) if (k.length >= 4) s = s.split(k).join(REDACTED);
  if (s.length <= MAX_VALUE_CHARS) return JSON.parse(s);
  return `${s.slice(0, MAX_VALUE_CHARS)}…`;
}

/** The engine's secret marker in events, or a serialized secret value. */
function isEngineSecret(v: unknown): boolean {
  return v === "[secret]" || hasSecretSignature(v);
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** `droplet theatl-web size drifted s-2vcpu-4gb → s-4vcpu-8gb`: one line per finding. */
export function driftLines(r: Pick<DriftReport, "drifted" | "deleted">): string[] {
  return [
    ...r.drifted.map(
      (d) => `${shortType(d.type)} ${d.name} ${d.property} drifted ${show(d.expected)} → ${show(d.found)}`,
    ),
    ...r.deleted.map((d) => `${shortType(d.type)} ${d.name} was deleted`),
  ];
}

/** The findings that concern one resource (a preview step on it may be caused by them). */
export function driftOf(r: Pick<DriftReport, "drifted" | "deleted">, urn: string) {
  return { drifted: r.drifted.filter((d) => d.urn === urn), deleted: r.deleted.filter((d) => d.urn === urn) };
}

/** The URNs a report names, each once, in report order. */
export function driftedUrns(r: Pick<DriftReport, "drifted" | "deleted">): string[] {
  return [...new Set([...r.drifted.map((d) => d.urn), ...r.deleted.map((d) => d.urn)])];
}
