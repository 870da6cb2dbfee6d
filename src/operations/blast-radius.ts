import type { PreviewSummary } from "./operation-record";
import type { TouchRule } from "./types";

/** Steps every update may contain: the stack itself, providers, reads and no-ops. */
const ALWAYS: TouchRule[] = [
  { ops: ["same", "read"], types: ["*"] },
  { ops: ["update", "same"], types: ["pulumi:pulumi:Stack", "pulumi:providers:*"] },
  // The laptop guard's read of the stack's own outputs (a StackReference, through the built-in
  // pulumi provider) is in the state after a laptop `pulumi up` and not in the service's runs: it
  // holds nothing in any cloud, so reading, forgetting or re-creating it is never a cloud change.
  {
    ops: ["read", "discard", "create", "delete", "same"],
    types: ["pulumi:pulumi:StackReference", "pulumi:providers:pulumi"],
  },
];

function matches(pattern: string, type: string): boolean {
  return pattern.endsWith("*") ? type.startsWith(pattern.slice(0, -1)) : pattern === type;
}

/** Steps of the preview that fall outside what the operation declared (empty = inside). */
export function outsideBlastRadius(
  steps: PreviewSummary["steps"],
  touches: readonly TouchRule[],
): PreviewSummary["steps"] {
  const rules = [...ALWAYS, ...touches];
  return steps.filter(
    (s) =>
      !rules.some(
        (r) =>
          r.ops.includes(s.op as never) &&
          r.types.some((t) => matches(t, s.type)) &&
          (r.resources === undefined || r.resources.some((x) => x === s.urn || s.urn.endsWith(`::${x}`))) &&
          (r.unknownOnly === undefined || s.unknownOnly === true),
      ),
  );
}
