import type { SiteConfig } from "../../programs/site-config";

/**
 * A site's database topology as two knobs, `primary` and `replicas`, plus the node catalogue.
 * Self-managed sites (theATL PostgreSQL, Insync MySQL) declare nodes; a node in neither knob is
 * fenced (kept, unreachable). datafruits' managed cluster declares replicas by name and size.
 */
export interface DbKnob {
  path: string;
  engine: "postgres" | "mysql" | "managed-postgres";
  primary: string;
  replicas: string[];
  /** Every declared node, fenced ones included. */
  nodes: string[];
  /** Returns the spec with a new standby named `name` (declared if it is new). */
  withReplica(name: string, opts: { size?: string; volumeGb?: number }): SiteConfig["spec"];
  /** Returns the spec without `name` among the replicas (a self-managed node stays declared, fenced). */
  withoutReplica(name: string): SiteConfig["spec"];
  /** Returns the spec with `target` as primary; the old primary is fenced (self-managed) or left as the original cluster (managed). */
  withPrimary(target: string): SiteConfig["spec"];
}

export type DbKnobResult = { ok: true; knob: DbKnob } | { ok: false; reason: string };

const clone = <T>(v: T): T => structuredClone(v);

/** The two knobs both self-managed topologies share: `primary` plus `replicas`, under one spec key. */
type SelfManaged = { primary: string; replicas: string[] };

/**
 * Removing a replica and promoting a standby read the same on every self-managed topology: the
 * node stays declared either way, and a node in neither knob is fenced by the program.
 */
function selfManagedMoves<S, K extends keyof S>(spec: S, key: K & string) {
  const topo = (s: S) => s[key] as unknown as SelfManaged;
  return {
    withoutReplica(name: string): S {
      const next = clone(spec);
      topo(next).replicas = topo(next).replicas.filter((r) => r !== name);
      return next;
    },
    withPrimary(target: string): S {
      const next = clone(spec);
      topo(next).primary = target;
      topo(next).replicas = topo(next).replicas.filter((r) => r !== target);
      return next;
    },
  };
}

export function dbKnob(config: SiteConfig): DbKnobResult {
  switch (config.site) {
    case "vulpine":
      return { ok: false, reason: "vulpine runs PostgreSQL in a container on its single Linode; there is no second database host" };
    case "chitter":
      return { ok: false, reason: "chitter runs one PostgreSQL on tempo; its config declares no standby or replica hosts" };
    case "theatl": {
      const spec = config.spec;
      const pg = spec.postgres;
      return {
        ok: true,
        knob: {
          path: "postgres",
          engine: "postgres",
          primary: pg.primary,
          replicas: [...pg.replicas],
          nodes: Object.keys(pg.nodes),
          withReplica(name, opts) {
            const next = clone(spec);
            const primaryNode = pg.nodes[pg.primary]!;
            const existing = next.postgres.nodes[name];
            next.postgres.nodes[name] = existing ?? { size: opts.size ?? primaryNode.size, volumeGb: opts.volumeGb ?? primaryNode.volumeGb };
            if (!next.postgres.replicas.includes(name)) next.postgres.replicas.push(name);
            return next;
          },
          ...selfManagedMoves(spec, "postgres"),
        },
      };
    }
    case "insync": {
      const spec = config.spec;
      const my = spec.mysql;
      return {
        ok: true,
        knob: {
          path: "mysql",
          engine: "mysql",
          primary: my.primary,
          replicas: [...my.replicas],
          nodes: Object.keys(my.nodes),
          withReplica(name, opts) {
            const next = clone(spec);
            const primaryNode = my.nodes[my.primary]!;
            // A new replica lives beside the primary (same region, so same VPC); an imported node keeps its id.
            next.mysql.nodes[name] = next.mysql.nodes[name] ?? { region: primaryNode.region, size: opts.size ?? primaryNode.size };
            if (!next.mysql.replicas.includes(name)) next.mysql.replicas.push(name);
            return next;
          },
          ...selfManagedMoves(spec, "mysql"),
        },
      };
    }
    case "datafruits": {
      const spec = config.spec;
      const db = spec.database;
      return {
        ok: true,
        knob: {
          path: "database",
          engine: "managed-postgres",
          primary: db.primary,
          // The node currently serving as primary is not a read replica any more, even if declared as one.
          replicas: db.replicas.map((r) => r.name).filter((n) => n !== db.primary),
          nodes: [db.name, ...db.replicas.map((r) => r.name)],
          withReplica(name, opts) {
            const next = clone(spec);
            if (!next.database.replicas.some((r) => r.name === name)) {
              next.database.replicas.push({ name, size: opts.size ?? db.size });
            }
            return next;
          },
          withoutReplica(name) {
            const next = clone(spec);
            next.database.replicas = next.database.replicas.filter((r) => r.name !== name);
            return next;
          },
          withPrimary(target) {
            // A managed replica is promoted by the provider; it stays declared (the schema requires the primary to be).
            const next = clone(spec);
            next.database.primary = target;
            return next;
          },
        },
      };
    }
  }
}
