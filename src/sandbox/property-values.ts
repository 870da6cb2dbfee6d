// Helpers for the property bags the engine hands a provider over gRPC (Struct → plain JS).
// Two special encodings matter: unknown values during preview, and secrets (the plugin
// accepts secrets, so they arrive wrapped and must be compared unwrapped).

import { SECRET_SIG_KEY, SECRET_SIG_VALUE, hasSecretSignature } from "../infra/secret-signature";

/** The sentinel the engine uses for "not known until apply" (sdk/nodejs/runtime/rpc.ts). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type Props = Record<string, unknown>;

export function isSecret(v: unknown): v is { value: unknown } {
  return hasSecretSignature(v);
}

export function isUnknown(v: unknown): boolean {
  return v === UNKNOWN;
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) return true;
  if (isSecret(v)) return containsUnknown(v.value);
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (typeof v === "object" && v !== null) return Object.values(v).some(containsUnknown);
  return false;
}

/** Removes secret wrappers (deeply) so values can be compared or inspected. */
export function reveal(v: unknown): unknown {
  if (isSecret(v)) return reveal(v.value);
  if (Array.isArray(v)) return v.map(reveal);
  if (typeof v === "object" && v !== null) {
    const out: Props = {};
    for (const [k, x] of Object.entries(v)) out[k] = reveal(x);
    return out;
  }
  return v;
}

/** Wraps a value as a secret the engine will encrypt in state. */
export function secret(value: unknown): Props {
  return { [SECRET_SIG_KEY]: SECRET_SIG_VALUE, value };
}

/** Structural equality after revealing secrets; `undefined`, `null` and absent are the same. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(reveal(a))) === JSON.stringify(canonical(reveal(b)));
}

function canonical(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(canonical);
  if (typeof v === "object") {
    const out: Props = {};
    for (const k of Object.keys(v as Props).sort()) {
      const x = (v as Props)[k];
      if (x !== undefined && x !== null) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}

/** Reads a dotted path ("metadata.name") from a property bag, revealing secrets on the way. */
export function getPath(bag: unknown, dotted: string): unknown {
  let cur: unknown = reveal(bag);
  for (const part of dotted.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Props)[part];
  }
  return cur;
}

/** A string property, or undefined when absent, unknown or not a string. */
export function str(bag: Props, key: string): string | undefined {
  const v = reveal(bag[key]);
  return typeof v === "string" && v !== UNKNOWN ? v : undefined;
}

/** A list of strings (tags and the like); unknown or absent gives an empty list. */
export function strList(bag: Props, key: string): string[] {
  const v = reveal(bag[key]);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x !== UNKNOWN) : [];
}

/** The URN's parts: urn:pulumi:<stack>::<project>::<qualified type>::<name>. */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } {
  const parts = urn.split("::");
  const stack = (parts[0] ?? "").replace(/^urn:pulumi:/, "");
  const qualified = parts[2] ?? "";
  const type = qualified.split("$").pop() ?? "";
  return { stack, project: parts[1] ?? "", type, name: parts.slice(3).join("::") };
}
