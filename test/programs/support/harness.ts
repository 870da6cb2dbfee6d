import * as pulumi from "@pulumi/pulumi";
import { siteProgram } from "../../../src/programs/program";
import type { SiteConfig, SiteId } from "../../../src/programs/site-config";
import { sandboxSiteCredentials } from "../../../src/sandbox/site-credentials";
import { mockState } from "./mock-state";

/** One registered resource: what the engine would have been asked to create, and with which options. */
export interface Recorded {
  type: string;
  name: string;
  custom: boolean;
  inputs: Record<string, any>;
  /** The provider reference (`urn::id`) the engine would use for it; undefined means a default provider. */
  provider?: string;
  opts: { protect?: boolean; retainOnDelete?: boolean; ignoreChanges?: string[]; import?: string };
}

export interface Run {
  /** Keyed `type::name`. */
  resources: Map<string, Recorded>;
  outputs: Record<string, any>;
}

/** Resolves an Output (never unknown here: tests run as an update, not a preview). */
export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

async function resolveDeep(v: unknown): Promise<any> {
  if (pulumi.Output.isInstance(v)) return resolveDeep(await promiseOf(v as pulumi.Output<unknown>));
  if (Array.isArray(v)) return Promise.all(v.map(resolveDeep));
  if (v !== null && typeof v === "object" && !pulumi.Resource.isInstance(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await resolveDeep(x);
    return out;
  }
  return v;
}

/** Waits until registrations stop arriving (mock registration is asynchronous). */
async function settle(rec: Map<string, unknown>): Promise<void> {
  let last = -1;
  let stable = 0;
  while (stable < 4) {
    await new Promise((r) => setTimeout(r, 5));
    stable = rec.size === last ? stable + 1 : 0;
    last = rec.size;
  }
}

/**
 * Strict mocks: every resource is recorded with its inputs, any invoke fails the test (the sandbox
 * plugins answer only for what docs/site-programs.md lists, and the programs use no data sources).
 */
export function installMocks(site: string): Map<string, Recorded> {
  const rec = new Map<string, Recorded>();
  void pulumi.runtime.setMocks(
    {
      newResource(args) {
        const key = `${args.type}::${args.name}`;
        if (rec.has(key)) throw new Error(`duplicate resource ${key}`);
        rec.set(key, {
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: args.inputs,
          provider: args.provider,
          opts: {},
        });
        return {
          id: args.custom === false ? undefined : mockState.id(args),
          state: { ...args.inputs, ...mockState.computed(args) },
        };
      },
      call(args) {
        throw new Error(`unexpected invoke ${args.token}: programs must not call data sources`);
      },
    },
    "stackyard",
    site,
    false,
  );
  return rec;
}

/**
 * The stack config a site's program reads besides its spec: its account credentials, as secrets
 * (the sandbox's values). `credentials: false` runs the program as a stack that has none.
 */
export function setStackCredentials(site: SiteId | false): void {
  const config: Record<string, string> = {};
  if (site)
    for (const [key, fields] of Object.entries(sandboxSiteCredentials(site)))
      config[key] = JSON.stringify(fields);
  pulumi.runtime.setAllConfig(config, Object.keys(config));
}

/** Runs one site's program under fresh mocks and returns everything it registered. */
export async function runSite(config: SiteConfig, run: { credentials?: boolean } = {}): Promise<Run> {
  const rec = installMocks(config.site);
  setStackCredentials(run.credentials === false ? false : config.site);
  const opts = new Map<string, Recorded["opts"]>();
  const record: pulumi.ResourceTransformation = (a) => {
    const o = a.opts as pulumi.CustomResourceOptions;
    opts.set(`${a.type}::${a.name}`, {
      protect: o.protect,
      retainOnDelete: o.retainOnDelete,
      ignoreChanges: o.ignoreChanges,
      import: typeof o.import === "string" ? o.import : undefined,
    });
    return undefined;
  };
  const outputs = await resolveDeep(await siteProgram(config, { transformations: [record] }));
  await settle(rec);
  for (const [k, r] of rec) r.opts = opts.get(k) ?? {};
  return { resources: rec, outputs };
}

/** Custom resources only (no components, no provider instances). */
export function cloudResources(run: Run): Recorded[] {
  return [...run.resources.values()].filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
}

export function byType(run: Run, type: string): Recorded[] {
  return [...run.resources.values()].filter((r) => r.type === type);
}

export function get(run: Run, type: string, name: string): Recorded {
  const r = run.resources.get(`${type}::${name}`);
  if (!r)
    throw new Error(
      `no ${type} named ${name}; have ${byType(run, type)
        .map((x) => x.name)
        .join(", ")}`,
    );
  return r;
}

/** `{type: count}` over cloud resources, for readable count assertions. */
export function countByType(run: Run): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of cloudResources(run)) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

export interface RunDiff {
  added: string[];
  removed: string[];
  /** `type::name` → top-level input keys whose values differ. */
  changed: Record<string, string[]>;
}

/** What a second run adds, removes or changes compared with the first (cloud resources only). */
export function diffRuns(before: Run, after: Run): RunDiff {
  const a = new Map(cloudResources(before).map((r) => [`${r.type}::${r.name}`, r]));
  const b = new Map(cloudResources(after).map((r) => [`${r.type}::${r.name}`, r]));
  const added = [...b.keys()].filter((k) => !a.has(k)).sort();
  const removed = [...a.keys()].filter((k) => !b.has(k)).sort();
  const changed: Record<string, string[]> = {};
  for (const [k, ra] of a) {
    const rb = b.get(k);
    if (!rb) continue;
    const keys = new Set([...Object.keys(ra.inputs), ...Object.keys(rb.inputs)]);
    const fields = [...keys]
      .filter((f) => JSON.stringify(ra.inputs[f]) !== JSON.stringify(rb.inputs[f]))
      .sort();
    if (fields.length > 0) changed[k] = fields;
  }
  return { added, removed, changed };
}

/** Builds components directly under fresh mocks (component tests) and returns what they registered. */
export async function runComponents(build: () => void): Promise<Map<string, Recorded>> {
  const rec = installMocks("components");
  build();
  await settle(rec);
  return rec;
}
