import type { EngineEvent, StepEventMetadata, StepEventStateMetadata } from "@pulumi/pulumi/automation";
import type { StackSession } from "../engine/stack-session";
import {
  reportValue,
  resourceName,
  type DeletedResource,
  type DriftedProperty,
  type DriftReport,
} from "../operations/drift-report";
import type { SiteDriftSettings } from "../operations/drift-settings";
import type { EngineEventRecorder } from "./engine-events";

export interface DriftRunInput {
  session: StackSession;
  site: string;
  operationId: string;
  settings: SiteDriftSettings;
  /** Strings that must never reach the report (the passphrase, configured secrets). */
  secrets: readonly string[];
  signal?: AbortSignal;
  /** The operation's event log for the refresh preview's steps (types, URNs, kinds; never values). */
  recorder: EngineEventRecorder;
  /** Called before the remediation refresh writes the state (the run proves it still owns the stack). */
  beforeWrite: () => Promise<void>;
}

/** What the engine said of one resource during the refresh preview: the state's and the cloud's copy. */
interface Seen {
  type: string;
  old?: StepEventStateMetadata;
  new?: StepEventStateMetadata;
  gone: boolean;
}

/**
 * One drift detection: a refresh preview (`pulumi refresh --preview-only`: the provider reads every
 * resource, nothing is written), compared property by property with the state; then, when the
 * site says `remediate: refresh`, a real refresh that accepts the cloud into the state. We use the
 * refresh preview rather than `preview --refresh`: its step events carry, per resource, the state
 * before (`old`) and what the provider read (`new`), and nothing of the program's own changes.
 */
export async function detectDrift(input: DriftRunInput): Promise<DriftReport> {
  const collector = new DriftCollector();
  const onEvent = (e: EngineEvent) => {
    input.recorder.onEvent(e);
    collector.onEvent(e);
  };
  await input.session.stack.previewRefresh({ onEvent, signal: input.signal });
  await input.recorder.flush();
  const { drifted, deleted } = collector.findings(input.secrets);
  const resources = new Set([...drifted.map((d) => d.urn), ...deleted.map((d) => d.urn)]).size;
  let remediation: DriftReport["remediation"] = "none";
  if (resources > 0 && input.settings.remediate === "refresh") {
    await input.beforeWrite();
    await input.session.refresh({ signal: input.signal });
    remediation = "refreshed";
  } else if (resources > 0 && input.settings.remediate === "revert") {
    // Submitted by the service's drift follow-up (src/schedules/drift-follow-up.ts) as an ordinary operation.
    remediation = "revert-requested";
  }
  return {
    site: input.site,
    operationId: input.operationId,
    detectedAt: new Date().toISOString(),
    resources,
    drifted,
    deleted,
    remediation,
  };
}

/** Follows a refresh preview's events; `findings` compares, per resource, the state with what the provider read. */
export class DriftCollector {
  private readonly seen = new Map<string, Seen>();

  readonly onEvent = (e: EngineEvent): void => {
    note(this.seen, e.resourcePreEvent?.metadata, false);
    note(this.seen, e.resOutputsEvent?.metadata, true);
  };

  findings(secrets: readonly string[] = []): { drifted: DriftedProperty[]; deleted: DeletedResource[] } {
    return compare(this.seen, secrets);
  }
}

function note(seen: Map<string, Seen>, meta: StepEventMetadata | undefined, done: boolean): void {
  if (!meta || !isCloudResource(meta.type)) return;
  const s = seen.get(meta.urn) ?? { type: meta.type, gone: false };
  if (meta.old) s.old ??= meta.old;
  if (meta.new) s.new = meta.new;
  // A resource the provider no longer finds: the refresh step ends with no new state (or a delete).
  if (done && (meta.op === "delete" || (!meta.new && meta.old))) s.gone = true;
  seen.set(meta.urn, s);
}

/** Providers and the stack hold nothing in a cloud; components have no provider to read them. */
function isCloudResource(type: string): boolean {
  return !type.startsWith("pulumi:") && !type.startsWith("stackyard:");
}

function compare(
  seen: Map<string, Seen>,
  secrets: readonly string[],
): { drifted: DriftedProperty[]; deleted: DeletedResource[] } {
  const drifted: DriftedProperty[] = [];
  const deleted: DeletedResource[] = [];
  for (const [urn, s] of seen) {
    if (!s.old || s.old.custom === false) continue;
    const name = resourceName(urn);
    if (s.gone || (s.new && s.new.id === "")) {
      deleted.push({ urn, type: s.type, name });
      continue;
    }
    if (!s.new) continue;
    for (const property of changedProperties(s.old, s.new))
      drifted.push({
        urn,
        type: s.type,
        name,
        property,
        expected: reportValue(property, valueOf(s.old, property), secrets),
        found: reportValue(property, valueOf(s.new, property), secrets),
      });
  }
  return { drifted, deleted };
}

/**
 * Top-level properties whose value differs between the state and what the provider read: the
 * inputs (what someone set: a size, a rule list) and the outputs the provider reports for them.
 * Engine-internal keys (`__meta`, `__defaults`) are not properties of the resource.
 */
function changedProperties(old: StepEventStateMetadata, now: StepEventStateMetadata): string[] {
  const keys = new Set<string>();
  for (const bag of ["inputs", "outputs"] as const) {
    const a = old[bag] ?? {};
    const b = now[bag] ?? {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (k.startsWith("__")) continue;
      if (!(k in b) && bag === "inputs") continue; // a provider that reads no inputs back says nothing of them
      if (stable(a[k]) !== stable(b[k])) keys.add(k);
    }
  }
  return [...keys].sort();
}

function valueOf(s: StepEventStateMetadata, property: string): unknown {
  return s.inputs?.[property] !== undefined ? s.inputs[property] : s.outputs?.[property];
}

/** JSON with object keys sorted: the same value read back in another key order is not drift. */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v ?? null);
}
