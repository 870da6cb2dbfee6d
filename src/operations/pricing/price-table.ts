/**
 * Monthly list prices the cost guard uses (research/domain.md §4). A versioned, dated table:
 * prices change, so every figure says where it came from and when; a size missing here is
 * refused by the cost guard rather than costed at zero. Hetzner prices are EUR net of VAT.
 */
export const PRICE_TABLE_VERSION = "2026-05-27";

/** Fixed conversion for sites that mix currencies (chitter bills in EUR, its AWS buckets in USD). */
export const USD_PER_EUR = 1.08;

export type Currency = "USD" | "EUR";

export interface PriceBook {
  provider: string;
  currency: Currency;
  asOf: string;
  source: string;
  /** Size slug → monthly price. */
  sizes: Readonly<Record<string, number>>;
}

export const DIGITALOCEAN_DROPLETS: PriceBook = {
  provider: "digitalocean",
  currency: "USD",
  asOf: "2022-07",
  source: "doctl compute size list after the July 2022 change (research §4)",
  sizes: {
    "s-1vcpu-512mb-10gb": 4,
    "s-1vcpu-1gb": 6,
    "s-1vcpu-2gb": 12,
    "s-2vcpu-2gb": 18,
    "s-2vcpu-4gb": 24,
    "s-4vcpu-8gb": 48,
    "s-8vcpu-16gb": 96,
    "s-2vcpu-4gb-amd": 28,
    "s-2vcpu-8gb-amd": 42,
    "c-2": 42,
  },
};

export const DIGITALOCEAN_DATABASES: PriceBook = {
  provider: "digitalocean",
  currency: "USD",
  asOf: "2025",
  source: "managed PostgreSQL/MySQL/Valkey per node (research §4, approximate)",
  sizes: { "db-s-1vcpu-1gb": 15, "db-s-1vcpu-2gb": 30, "db-s-2vcpu-4gb": 60, "db-s-4vcpu-8gb": 120 },
};

export const DIGITALOCEAN_EXTRAS = {
  volumePerGb: 0.1,
  loadBalancer: 12,
  spaces: 5,
  doksHaControlPlane: 40,
} as const;

export const LINODE_INSTANCES: PriceBook = {
  provider: "linode",
  currency: "USD",
  asOf: "2026-09",
  source: "/v4/linode/types (research §4)",
  sizes: {
    "g6-nanode-1": 5,
    "g6-standard-1": 12,
    "g6-standard-2": 24,
    "g6-standard-4": 48,
    "g6-standard-6": 96,
    "g6-dedicated-2": 36,
  },
};

/** Linode backups add-on, per type (Nanode $2; the others scale with the plan, research §4 "~$10" for 8GB). */
export const LINODE_BACKUPS: Readonly<Record<string, number>> = {
  "g6-nanode-1": 2,
  "g6-standard-1": 2.5,
  "g6-standard-2": 5,
  "g6-standard-4": 10,
  "g6-standard-6": 20,
  "g6-dedicated-2": 5,
};

export const HETZNER_SERVERS: PriceBook = {
  provider: "hetzner",
  currency: "EUR",
  asOf: "2026-05-27",
  source:
    "CX33 from GET /v1/pricing (fsn1, 2026-05-27); CX22/CPX* 2024–25 list prices (research §4); CX32 and CCX* are 2024 list prices not in research §4: estimates to verify",
  sizes: {
    cx22: 3.79,
    cx32: 6.8,
    cx33: 6.49,
    cpx21: 8.39,
    cpx31: 15.59,
    cpx41: 29.39,
    ccx13: 12.49,
    ccx23: 24.49,
    ccx33: 48.49,
  },
};

export const HETZNER_EXTRAS = { volumePerGb: 0.0572, primaryIpv4: 0.5 } as const;

export function priceOf(book: PriceBook, size: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(book.sizes, size) ? book.sizes[size] : undefined;
}

export function convert(amount: number, from: Currency, to: Currency): number {
  if (from === to) return amount;
  return from === "EUR" ? amount * USD_PER_EUR : amount / USD_PER_EUR;
}
