import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { External } from "./config/common";
import type { SiteClouds } from "./credentials/clouds";
import type { SidekiqSpec } from "./config/sidekiq";

/**
 * Everything that is particular to one site, in one value the compiler holds complete: every field
 * is required, so a site that leaves one out does not compile. A site that lacks a capability says
 * so in that field (a knob with a reason, `null` settings), never by omission. Operations, guards,
 * pricing, policy and the sandbox read a site only through this shape and its knob interfaces.
 */
export interface SiteDefinition<Id extends string, Spec> {
  /** The site id, equal to its stack name and its key in the registry (`src/programs/sites.ts`). */
  id: Id;
  /** Parses `stackyard:spec` (defaults applied); a problem names its key. */
  specSchema: z.ZodType<Spec, unknown>;
  /**
   * The inline Pulumi program: a pure function of the validated config. `opts` reaches every
   * resource through the site's root component (tests pass transformations).
   */
  program(
    config: SiteConfigOf<Id, Spec>,
    opts?: pulumi.ComponentResourceOptions,
  ): Promise<Record<string, unknown>>;
  /**
   * The clouds the program calls, each through an explicit provider configured from the stack's
   * own `credentials:<cloud>` secret config (`src/programs/credentials`).
   */
  clouds: SiteClouds<Spec>;
  /** The knobs operations turn, each one, or the reason the site has none. */
  knobs: {
    sidekiq(spec: Spec): SidekiqKnob;
    db(spec: Spec): DbKnobResult<Spec>;
  };
  /** Web and streaming processes the spec runs (each holds its own database pool), for the connection budget. */
  appProcesses(spec: Spec): AppProcesses;
  /**
   * What the spec bills monthly, item by item, against the price table (`src/operations/pricing`):
   * usage-billed items that do not move with operations are left out; fenced hosts still bill.
   */
  monthlyCost(spec: Spec, bill: Bill): void;
  /** The site's own guard defaults; the settings every site shares live with the guards. */
  guardDefaults: SiteGuardDefaults;
  /** The site's own resource policy defaults. */
  policyDefaults: SitePolicyDefaults;
  /** Which database engine live facts read for the failover gates, or `not-implemented`. */
  liveDb: "postgresql" | "not-implemented";
  /** Resources the program adopts with `import` rather than creates (a sandbox account is seeded with them). */
  adoptedResources(spec: Spec): AdoptedResource[];
}

/** A site's typed stack config: the `stackyard:*` keys of its stack file, validated. */
export interface SiteConfigOf<Id extends string, Spec> {
  site: Id;
  /** Bumped by the service on every applied operation; the program validates and exports it. */
  configRevision: number;
  spec: Spec;
}

/** Where a site keeps its sidekiq layout, or why it has none. */
export type SidekiqKnob =
  | {
      ok: true;
      path: string;
      spec: SidekiqSpec;
      /**
       * The queue that must run in exactly one process (Mastodon's `scheduler`), or null where the
       * schedule runs in a dedicated sidekiq-scheduler process instead (streampusher).
       */
      singletonQueue: string | null;
    }
  | { ok: false; reason: string };

/**
 * A site's database topology as two knobs, `primary` and `replicas`, plus the node catalogue.
 * Self-managed sites (theATL PostgreSQL, Insync MySQL) declare nodes; a node in neither knob is
 * fenced (kept, unreachable). datafruits' managed cluster declares replicas by name and size.
 */
export interface DbKnob<Spec> {
  path: string;
  engine: "postgres" | "mysql" | "managed-postgres";
  primary: string;
  replicas: string[];
  /** Every declared node, fenced ones included. */
  nodes: string[];
  /** Returns the spec with a new standby named `name` (declared if it is new). */
  withReplica(name: string, opts: { size?: string; volumeGb?: number }): Spec;
  /** Returns the spec without `name` among the replicas (a self-managed node stays declared, fenced). */
  withoutReplica(name: string): Spec;
  /** Returns the spec with `target` as primary; the old primary is fenced (self-managed) or left as the original cluster (managed). */
  withPrimary(target: string): Spec;
}

export type DbKnobResult<Spec> = { ok: true; knob: DbKnob<Spec> } | { ok: false; reason: string };

/** How many web and streaming processes a site's config runs. */
export interface AppProcesses {
  web: number;
  streaming: number;
}

/** Size catalogues of the price table. */
export type SizeCatalogue =
  "digitalocean-droplet" | "digitalocean-database" | "linode-instance" | "hetzner-server";

/** Unit prices of the price table (per GB-month, per item-month). */
export type UnitPrice =
  | "digitalocean-volume-gb"
  | "digitalocean-load-balancer"
  | "digitalocean-spaces"
  | "digitalocean-doks-ha-control-plane"
  | "hetzner-volume-gb"
  | "hetzner-primary-ipv4";

/** Add-ons priced per the size they attach to. */
export type SizedAddOn = "linode-backups";

/** What a site's cost function writes its items to; the pricing module prices them. */
export interface Bill {
  /** `count` of `size` from a catalogue (a line `item size`, or `item count× size`); a size the table lacks is reported unpriced. */
  sized(catalogue: SizeCatalogue, item: string, size: string, count?: number): void;
  /** `quantity` units at a unit price, as the line `item`. */
  unit(price: UnitPrice, item: string, quantity?: number): void;
  /** An add-on of a sized item, as the line `item` (a size the add-on table lacks costs 0). */
  addOn(addOn: SizedAddOn, item: string, size: string): void;
  /** Declared externals with a fixed monthly cost, each a line of its name. */
  externals(list: readonly External[]): void;
}

/** The guard settings that differ per site (docs/policy.md explains each figure). */
export interface SiteGuardDefaults {
  /** Sidekiq pool processes (the scheduler excluded), summed over pools; null where the site has no sidekiq. */
  sidekiq: { min: number; max: number; why: string } | null;
  /** Read-only nodes (standbys included) per primary; null where the site has no second database node. */
  replicas: { max: number; why: string } | null;
  /** The database connection budget; null where no Rails app uses the database. */
  connections: {
    maxConnections: number;
    webConnectionsPerProcess: number;
    streamingPoolPerProcess: number;
    adminReserve: number;
    headroom: number;
    source: string;
  } | null;
  /** Monthly cost ceiling in the site's billing currency, and the rise that needs approval. */
  cost: { currency: "USD" | "EUR"; monthlyCeiling: number; approvalDelta: number; why: string };
}

/** The resource policy defaults that differ per site. */
export interface SitePolicyDefaults {
  /** Resources the site's stack may hold (components and providers included): about twice what the program registers. */
  resourceCeiling: number;
}

/** A resource that exists in a site's account before stackyard manages it. */
export interface AdoptedResource {
  type: string;
  id: string;
  inputs: Record<string, unknown>;
}
