// What the simulated DigitalOcean knows about regions and sizes: enough for `check` to refuse a
// slug the real API would refuse, and for droplets to report memory, vCPUs and prices.
// Prices are the public list prices noted in research/domain.md §4 (USD per month).

export const DO_REGIONS = [
  "nyc1",
  "nyc2",
  "nyc3",
  "sfo2",
  "sfo3",
  "ams3",
  "sgp1",
  "lon1",
  "fra1",
  "tor1",
  "blr1",
  "syd1",
  "atl1",
];

export interface DropletSize {
  slug: string;
  memory: number;
  vcpus: number;
  disk: number;
  priceMonthly: number;
}

const NAMED: DropletSize[] = [
  { slug: "s-1vcpu-512mb-10gb", memory: 512, vcpus: 1, disk: 10, priceMonthly: 4 },
  { slug: "s-1vcpu-1gb", memory: 1024, vcpus: 1, disk: 25, priceMonthly: 6 },
  { slug: "s-1vcpu-2gb", memory: 2048, vcpus: 1, disk: 50, priceMonthly: 12 },
  { slug: "s-2vcpu-2gb", memory: 2048, vcpus: 2, disk: 60, priceMonthly: 18 },
  { slug: "s-2vcpu-4gb", memory: 4096, vcpus: 2, disk: 80, priceMonthly: 24 },
  { slug: "s-4vcpu-8gb", memory: 8192, vcpus: 4, disk: 160, priceMonthly: 48 },
  { slug: "s-8vcpu-16gb", memory: 16384, vcpus: 8, disk: 320, priceMonthly: 96 },
  { slug: "s-2vcpu-4gb-amd", memory: 4096, vcpus: 2, disk: 80, priceMonthly: 28 },
  { slug: "s-2vcpu-8gb-amd", memory: 8192, vcpus: 2, disk: 100, priceMonthly: 42 },
  { slug: "c-2", memory: 4096, vcpus: 2, disk: 25, priceMonthly: 42 },
  { slug: "c-4", memory: 8192, vcpus: 4, disk: 50, priceMonthly: 84 },
  { slug: "g-2vcpu-8gb", memory: 8192, vcpus: 2, disk: 25, priceMonthly: 63 },
  { slug: "m-2vcpu-16gb", memory: 16384, vcpus: 2, disk: 50, priceMonthly: 84 },
];

/** A droplet size by slug; other well-formed slugs (e.g. s-4vcpu-16gb-intel) are derived from their name. */
export function dropletSize(slug: string): DropletSize | undefined {
  const named = NAMED.find((s) => s.slug === slug);
  if (named) return named;
  const m = /^(s|c|c2|g|gd|m|m3|so|so1_5)-(\d+)vcpu-(\d+)(gb|mb)(-[a-z0-9-]+)?$/.exec(slug);
  if (!m) return undefined;
  const vcpus = Number(m[2]);
  const memory = Number(m[3]) * (m[4] === "gb" ? 1024 : 1);
  return {
    slug,
    memory,
    vcpus,
    disk: Math.max(25, (memory / 1024) * 20),
    priceMonthly: Math.round((memory / 1024) * 6),
  };
}

/** Managed database node sizes look like db-s-2vcpu-4gb (or gd-/so1_5- variants). */
export function isDatabaseSize(slug: string): boolean {
  return /^(db-)?(s|gd|so1_5|m|c)-\d+vcpu-\d+gb$/.test(slug);
}

export function allSizes(): Array<
  DropletSize & { priceHourly: number; available: boolean; regions: string[] }
> {
  return NAMED.map((s) => ({
    ...s,
    priceHourly: hourly(s.priceMonthly),
    available: true,
    regions: DO_REGIONS,
  }));
}

export function hourly(monthly: number): number {
  return Math.round((monthly / 672) * 100000) / 100000;
}

/** The default VPC range DigitalOcean gives a region when the program names none. */
export function defaultVpcRange(region: string): string {
  const i = Math.max(DO_REGIONS.indexOf(region), 0);
  return `10.${100 + i}.0.0/20`;
}
