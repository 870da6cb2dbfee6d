import type { CloudRecord } from "./cloud-store";
import { hasSecretSignature } from "../infra/secret-signature";
import { Props, secret } from "./property-values";
import { packageSpecs } from "./resource-specs";
import { Allocator } from "./resource-specs/spec";
import type { SandboxCloud } from "./sandbox-cloud";

/** One resource of an exported stack state (`pulumi stack export`), the fields the twin reads. */
export interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  inputs?: Props;
  outputs?: Props;
  delete?: boolean;
}

/**
 * A secret as `stack export --show-secrets` writes it (`plaintext`: the JSON text of the value)
 * turned into the wrapped form the engine hands a provider, which is what the store keeps.
 */
function fromExported(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(fromExported);
  if (typeof v !== "object" || v === null) return v;
  const o = v as Props;
  if (hasSecretSignature(o)) {
    if (typeof o.plaintext !== "string")
      throw new Error(
        "sandbox twin: a secret in the exported state is still encrypted (export with --show-secrets)",
      );
    return secret(fromExported(JSON.parse(o.plaintext)));
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromExported(x)]));
}

/** The package a resource type belongs to (`kubernetes:apps/v1:Deployment` → kubernetes). */
function packageOf(type: string): string {
  return type.startsWith("kubernetes:") ? "kubernetes" : type.split(":")[0]!;
}

/**
 * Fills an empty simulated cloud with the resources a stack's state holds, each under its id, URN,
 * inputs and outputs, and the simulated behaviour its spec derives from those inputs (a database
 * host's role from its tags). The provider's Diff then compares the program with what the state
 * says the cloud was given, and Read answers what the state recorded: the twin starts where the
 * live site is. Providers and component resources are not cloud resources and are skipped; a type
 * the sandbox does not simulate stops the seeding (the twin could not answer for it).
 */
export function seedFromState(cloud: SandboxCloud, stack: string, resources: StateResource[]): number {
  let n = 0;
  for (const r of resources) {
    if (!r.custom || !r.id || r.delete || r.type.startsWith("pulumi:providers:")) continue;
    const pkg = packageOf(r.type);
    const spec = packageSpecs(pkg).resources.find((s) => s.type === r.type);
    if (!spec) throw new Error(`sandbox twin: ${r.type} (${r.urn}) is not simulated`);
    const inputs = fromExported(r.inputs ?? {}) as Props;
    const outputs = fromExported(r.outputs ?? {}) as Props;
    const memo: Props = {};
    const ctx = {
      store: cloud.store,
      alloc: new Allocator(cloud.store),
      config: {},
      name: r.urn.split("::").pop()!,
      stack,
      id: r.id,
      prior: outputs,
      memo,
    };
    const now = new Date().toISOString();
    const rec: CloudRecord = {
      package: pkg,
      type: r.type,
      id: r.id,
      urn: r.urn,
      stack,
      inputs,
      outputs,
      sim: { ...(spec.sim?.(inputs, ctx) ?? { status: "active" }), memo },
      createdAt: now,
      updatedAt: now,
    };
    cloud.store.put(rec);
    n++;
  }
  return n;
}
