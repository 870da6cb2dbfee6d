import type { SiteConfig } from "../../programs/site-config";
import type { Bill, SizeCatalogue, SizedAddOn, UnitPrice } from "../../programs/site-definition";
import { definitionFor } from "../../programs/sites";
import {
  convert,
  DIGITALOCEAN_DATABASES,
  DIGITALOCEAN_DROPLETS,
  DIGITALOCEAN_EXTRAS,
  HETZNER_EXTRAS,
  HETZNER_SERVERS,
  LINODE_BACKUPS,
  LINODE_INSTANCES,
  priceOf,
  type Currency,
  type PriceBook,
} from "./price-table";

export interface CostLine {
  item: string;
  monthly: number;
}

/** A site's modelled monthly cost, in its billing currency; `unpriced` lists sizes the table lacks. */
export interface SiteCost {
  currency: Currency;
  total: number;
  lines: CostLine[];
  unpriced: string[];
}

const CATALOGUES: Readonly<Record<SizeCatalogue, PriceBook>> = {
  "digitalocean-droplet": DIGITALOCEAN_DROPLETS,
  "digitalocean-database": DIGITALOCEAN_DATABASES,
  "linode-instance": LINODE_INSTANCES,
  "hetzner-server": HETZNER_SERVERS,
};

const UNIT_PRICES: Readonly<Record<UnitPrice, { amount: number; currency: Currency }>> = {
  "digitalocean-volume-gb": { amount: DIGITALOCEAN_EXTRAS.volumePerGb, currency: "USD" },
  "digitalocean-load-balancer": { amount: DIGITALOCEAN_EXTRAS.loadBalancer, currency: "USD" },
  "digitalocean-spaces": { amount: DIGITALOCEAN_EXTRAS.spaces, currency: "USD" },
  "digitalocean-doks-ha-control-plane": { amount: DIGITALOCEAN_EXTRAS.doksHaControlPlane, currency: "USD" },
  "hetzner-volume-gb": { amount: HETZNER_EXTRAS.volumePerGb, currency: "EUR" },
  "hetzner-primary-ipv4": { amount: HETZNER_EXTRAS.primaryIpv4, currency: "EUR" },
};

const ADD_ONS: Readonly<Record<SizedAddOn, { sizes: Readonly<Record<string, number>>; currency: Currency }>> =
  {
    "linode-backups": { sizes: LINODE_BACKUPS, currency: "USD" },
  };

/**
 * Sums list prices × counts for what the stack file declares (research §4), as the site's
 * definition itemises it. Usage-billed items (S3, CDN egress, CloudWatch ingest) are left out: they
 * do not move with operations. Fenced database hosts still bill, so every declared node counts.
 */
export function siteMonthlyCost(config: SiteConfig, currency: Currency): SiteCost {
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const add = (item: string, monthly: number, from: Currency) =>
    lines.push({ item, monthly: convert(monthly, from, currency) });
  const bill: Bill = {
    sized(catalogue, item, size, count = 1) {
      const book = CATALOGUES[catalogue];
      const p = priceOf(book, size);
      if (p === undefined) unpriced.push(`${book.provider} ${size} (${item})`);
      else if (count > 0)
        add(count === 1 ? `${item} ${size}` : `${item} ${count}× ${size}`, p * count, book.currency);
    },
    unit(price, item, quantity) {
      const u = UNIT_PRICES[price];
      add(item, quantity === undefined ? u.amount : quantity * u.amount, u.currency);
    },
    addOn(addOn, item, size) {
      const a = ADD_ONS[addOn];
      add(item, a.sizes[size] ?? 0, a.currency);
    },
    externals(list) {
      for (const e of list) {
        if (e.monthlyCost && (e.monthlyCost.currency === "USD" || e.monthlyCost.currency === "EUR"))
          add(e.name, e.monthlyCost.amount, e.monthlyCost.currency);
      }
    },
  };
  definitionFor(config).monthlyCost(config.spec, bill);
  const total = Math.round(lines.reduce((n, l) => n + l.monthly, 0) * 100) / 100;
  return { currency, total, lines, unpriced };
}
