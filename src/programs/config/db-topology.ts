import type { z } from "zod";

/**
 * Roles of self-managed database nodes, derived from two knobs: `primary` (one node name) and
 * `replicas` (names streaming from it). The primary wins over replica membership, so a failover is
 * one flip of `primary`: the promoted node leaves the standby set, and the old primary, being in
 * neither, is fenced (kept and protected, but no application can reach its port).
 */
export type NodeRole = "primary" | "standby" | "fenced";

export function nodeRoles(
  nodes: readonly string[],
  primary: string,
  replicas: readonly string[],
): Record<string, NodeRole> {
  const out: Record<string, NodeRole> = {};
  for (const n of nodes) out[n] = n === primary ? "primary" : replicas.includes(n) ? "standby" : "fenced";
  return out;
}

/** Shared refinement: the primary and every replica must name a declared node. */
export function checkTopology(
  ctx: z.core.$RefinementCtx,
  at: readonly (string | number)[],
  nodes: readonly string[],
  primary: string,
  replicas: readonly string[],
): void {
  const known = nodes.join(", ");
  if (!nodes.includes(primary)) {
    ctx.addIssue({
      code: "custom",
      path: [...at, "primary"],
      message: `primary "${primary}" is not a declared node (nodes: ${known}); replicas cannot follow a nonexistent primary`,
    });
  }
  replicas.forEach((r, i) => {
    if (!nodes.includes(r)) {
      ctx.addIssue({
        code: "custom",
        path: [...at, "replicas", i],
        message: `replica "${r}" is not a declared node (nodes: ${known})`,
      });
    }
  });
  if (new Set(replicas).size !== replicas.length) {
    ctx.addIssue({ code: "custom", path: [...at, "replicas"], message: "a node is listed twice" });
  }
}

/**
 * Removing a replica and promoting a standby read the same on every self-managed topology (the
 * `primary` + `replicas` knobs under one spec key): the node stays declared either way, and a node
 * in neither knob is fenced by the program.
 */
export function selfManagedMoves<S, K extends keyof S>(spec: S, key: K & string) {
  const topo = (s: S) => s[key] as unknown as { primary: string; replicas: string[] };
  return {
    withoutReplica(name: string): S {
      const next = structuredClone(spec);
      topo(next).replicas = topo(next).replicas.filter((r) => r !== name);
      return next;
    },
    withPrimary(target: string): S {
      const next = structuredClone(spec);
      topo(next).primary = target;
      topo(next).replicas = topo(next).replicas.filter((r) => r !== target);
      return next;
    },
  };
}
