import type { SiteConfig } from "../../programs/site-config";
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

/**
 * Sums list prices × counts for what the stack file declares (research §4). Usage-billed items
 * (S3, CDN egress, CloudWatch ingest) are left out: they do not move with operations. Fenced
 * database hosts still bill, so every declared node counts.
 */
export function siteMonthlyCost(config: SiteConfig, currency: Currency): SiteCost {
  const lines: CostLine[] = [];
  const unpriced: string[] = [];
  const add = (item: string, monthly: number, from: Currency) => lines.push({ item, monthly: convert(monthly, from, currency) });
  const sized = (book: PriceBook, item: string, size: string, count = 1) => {
    const p = priceOf(book, size);
    if (p === undefined) unpriced.push(`${book.provider} ${size} (${item})`);
    else if (count > 0) add(count === 1 ? `${item} ${size}` : `${item} ${count}× ${size}`, p * count, book.currency);
  };
  switch (config.site) {
    case "vulpine": {
      const s = config.spec;
      sized(LINODE_INSTANCES, s.instance.label, s.instance.type);
      if (s.instance.backups) add(`${s.instance.label} backups`, LINODE_BACKUPS[s.instance.type] ?? 0, "USD");
      break;
    }
    case "chitter": {
      for (const [name, srv] of Object.entries(config.spec.servers)) {
        sized(HETZNER_SERVERS, name, srv.serverType);
        add(`${name} primary IPv4`, HETZNER_EXTRAS.primaryIpv4, "EUR");
        for (const [vol, gb] of Object.entries(srv.volumes)) add(`${name} volume ${vol} ${gb} GB`, gb * HETZNER_EXTRAS.volumePerGb, "EUR");
      }
      break;
    }
    case "theatl": {
      const s = config.spec;
      sized(DIGITALOCEAN_DROPLETS, "web", s.web.size, s.web.count);
      sized(DIGITALOCEAN_DROPLETS, "sidekiq scheduler", s.sidekiq.size);
      for (const [pool, p] of Object.entries(s.sidekiq.pools)) sized(DIGITALOCEAN_DROPLETS, `sidekiq ${pool}`, (p as { size?: string }).size ?? s.sidekiq.size, p.count);
      for (const [node, n] of Object.entries(s.postgres.nodes)) {
        sized(DIGITALOCEAN_DROPLETS, node, n.size);
        add(`${node} volume ${n.volumeGb} GB`, n.volumeGb * DIGITALOCEAN_EXTRAS.volumePerGb, "USD");
      }
      sized(DIGITALOCEAN_DROPLETS, "redis", s.redis.size);
      sized(DIGITALOCEAN_DROPLETS, "nginx", s.nginx.size);
      sized(DIGITALOCEAN_DROPLETS, "haproxy", s.haproxy.size);
      add("spaces", DIGITALOCEAN_EXTRAS.spaces, "USD");
      break;
    }
    case "insync": {
      const s = config.spec;
      for (const [name, d] of Object.entries(s.droplets)) sized(DIGITALOCEAN_DROPLETS, name, d.size);
      for (const [name, n] of Object.entries(s.mysql.nodes)) sized(DIGITALOCEAN_DROPLETS, name, n.size);
      break;
    }
    case "datafruits": {
      const s = config.spec;
      sized(DIGITALOCEAN_DROPLETS, `node pool ${s.cluster.nodePool.name}`, s.cluster.nodePool.size, s.cluster.nodePool.count);
      if (s.cluster.ha) add("DOKS HA control plane", DIGITALOCEAN_EXTRAS.doksHaControlPlane, "USD");
      add("ingress load balancer", DIGITALOCEAN_EXTRAS.loadBalancer, "USD");
      sized(DIGITALOCEAN_DATABASES, s.database.name, s.database.size, s.database.nodeCount);
      for (const r of s.database.replicas) sized(DIGITALOCEAN_DATABASES, r.name, r.size);
      sized(DIGITALOCEAN_DATABASES, s.redis.name, s.redis.size);
      add("spaces", DIGITALOCEAN_EXTRAS.spaces, "USD");
      break;
    }
  }
  for (const e of (config.spec as { externals?: Array<{ name: string; monthlyCost?: { amount: number; currency: string } }> }).externals ?? []) {
    if (e.monthlyCost && (e.monthlyCost.currency === "USD" || e.monthlyCost.currency === "EUR")) add(e.name, e.monthlyCost.amount, e.monthlyCost.currency);
  }
  const total = Math.round(lines.reduce((n, l) => n + l.monthly, 0) * 100) / 100;
  return { currency, total, lines, unpriced };
}
