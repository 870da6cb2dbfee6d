import * as crypto from "node:crypto";
import { CheckFailure } from "@pulumi/pulumi/provider";
import { CloudStore, SimState } from "../cloud-store";
import { Props } from "../property-values";

// What the generic provider needs to know about one simulated resource type. Everything not
// listed here behaves the same for every type: inputs are echoed as outputs, any other change
// is an in-place update, and `read` returns what the store holds.

/** Configuration of one provider instance (from Configure), e.g. the AWS region and default tags. */
export type ProviderConfig = Props;

export interface SpecContext {
  store: CloudStore;
  alloc: Allocator;
  config: ProviderConfig;
  /** The resource's logical name (last URN segment) and stack. */
  name: string;
  stack: string;
  /** The id being created or updated. */
  id: string;
  /** Outputs and simulated state before this update (absent on create). */
  prior?: Props;
  priorSim?: SimState;
  /** Private facts kept with the resource in the store but never returned as outputs (see remember). */
  memo: Props;
}

export interface ResourceSpec {
  type: string;
  /** A new id for a resource being created (numeric for DO/Linode/hcloud, names or ARNs for AWS…). */
  newId(inputs: Props, ctx: Omit<SpecContext, "id">): string;
  /** Input paths ("region", "metadata.name") whose change forces replacement in the real provider. */
  replaceOn?: string[];
  /** The replacement must delete first (a unique name that the new resource reuses). */
  deleteBeforeReplace?: (news: Props) => boolean;
  /** Defaults the real provider applies, given the new and (when updating) old inputs. */
  defaults?(news: Props, olds: Props | undefined, ctx: { name: string; config: ProviderConfig }): Props;
  /** Input errors the real API (or its schema) rejects up front. */
  validate?(inputs: Props): CheckFailure[];
  /** Outputs the cloud computes, merged over the inputs. Keep stable values from ctx.prior. */
  computed?(inputs: Props, ctx: SpecContext): Props;
  /** Simulated behaviour kept beside the outputs. */
  sim?(inputs: Props, ctx: SpecContext): SimState;
  /** Side effects on other resources of the cloud (e.g. an assignment moving an IP). */
  afterWrite?(inputs: Props, ctx: SpecContext): void;
  afterDelete?(outputs: Props, ctx: { store: CloudStore; id: string }): void;
  /** Refuses a delete the real API refuses (e.g. a bucket that is not empty). */
  beforeDelete?(outputs: Props, ctx: { store: CloudStore; id: string }): void;
}

/** Ids, addresses and secrets that look like the real cloud's, unique across plugin processes. */
export class Allocator {
  constructor(private readonly store: CloudStore) {}

  /** A numeric id like DigitalOcean's or Linode's (no leading zero). */
  numericId(digits = 9): string {
    const n = this.store.increment("numeric-id");
    const base = 10 ** (digits - 1);
    return String(base + ((n * 7919 + crypto.randomInt(0, 997)) % (9 * base)));
  }

  uuid(): string {
    return crypto.randomUUID();
  }

  hex(chars: number): string {
    return crypto
      .randomBytes(Math.ceil(chars / 2))
      .toString("hex")
      .slice(0, chars);
  }

  /** Public IPv4 from the documentation ranges (RFC 5737): never routable, never somebody's real address. */
  publicIpv4(): string {
    const pools = ["203.0.113", "198.51.100", "192.0.2"];
    const n = this.store.increment("ipv4-public") - 1;
    const pool = pools[Math.floor(n / 253) % pools.length];
    return `${pool}.${(n % 253) + 2}`;
  }

  /** IPv6 from the documentation prefix 2001:db8::/32. */
  ipv6(): string {
    const n = this.store.increment("ipv6");
    return `2001:db8:${(n >> 16).toString(16)}:${(n & 0xffff).toString(16)}::1`;
  }

  /** The next host address inside a private CIDR (e.g. the program's VPC range). */
  privateIpv4(cidr: string): string {
    const [base, bits] = cidr.split("/");
    const octets = (base ?? "10.0.0.0").split(".").map(Number);
    const start = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    const size = 2 ** (32 - Number(bits ?? 16));
    const n = this.store.increment(`ipv4-private:${cidr}`);
    const addr = start + 1 + (n % Math.max(size - 2, 1));
    return [addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255].join(".");
  }

  password(): string {
    return crypto.randomBytes(18).toString("base64url");
  }
}

/** Autoname like the Pulumi bridge: `<logical name>-<7 hex>`; kept stable once assigned. */
export function autoName(prop: string, sep = "-", hexLen = 7) {
  return (news: Props, olds: Props | undefined, ctx: { name: string }): Props => {
    if (news[prop] !== undefined) return {};
    const old = olds?.[prop];
    if (typeof old === "string") return { [prop]: old };
    return { [prop]: `${ctx.name}${sep}${crypto.randomBytes(4).toString("hex").slice(0, hexLen)}` };
  };
}

/** Combines several `defaults` functions; later ones see earlier results. */
export function defaultsOf(
  ...fns: Array<
    (news: Props, olds: Props | undefined, ctx: { name: string; config: ProviderConfig }) => Props
  >
): NonNullable<ResourceSpec["defaults"]> {
  return (news, olds, ctx) => {
    let acc: Props = {};
    for (const fn of fns) acc = { ...acc, ...fn({ ...news, ...acc }, olds, ctx) };
    return acc;
  };
}

/** Constant defaults for absent properties. */
export function fixed(values: Props) {
  return (news: Props): Props => {
    const out: Props = {};
    for (const [k, v] of Object.entries(values)) if (news[k] === undefined) out[k] = v;
    return out;
  };
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Keeps a value computed at create time across updates. */
export function keep<T>(ctx: SpecContext, key: string, make: () => T): T {
  const v = ctx.prior?.[key];
  return v === undefined ? make() : (v as T);
}

/** Like keep, for values that must not appear in outputs (kept in the store's simulated state). */
export function remember<T>(ctx: SpecContext, key: string, make: () => T): T {
  if (ctx.memo[key] === undefined) ctx.memo[key] = make();
  return ctx.memo[key] as T;
}

/** Builds a spec for a type whose only computed facts are an id and a few stable outputs. */
export function simple(
  type: string,
  newId: ResourceSpec["newId"],
  extra: Partial<Omit<ResourceSpec, "type" | "newId">> = {},
): ResourceSpec {
  return { type, newId, ...extra };
}
