import { DATA_PORTS, PUBLIC_SOURCES, isStateful, portsCovered, siteTagOf, sizeOf } from "./resource-facts";

/** A resource as a rule sees it: the engine's view, reduced to what the rules read. */
export interface RuleResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  protect: boolean;
}

/** Every refusal names the rule, the value and the limit. */
export interface Violation {
  rule: string;
  message: string;
}

const violation = (rule: string, message: string): Violation => ({ rule, message });

export const RULES = {
  stateful: "stateful-resources-protected",
  privateData: "data-plane-private-only",
  tags: "site-tags-required",
  sizes: "sizes-from-allow-list",
  ceiling: "resource-count-ceiling",
  oneSite: "one-site-per-stack",
} as const;

/** Stateful resources carry `protect`, so the engine itself refuses to delete or replace them. */
export function checkStatefulProtected(r: RuleResource, allowUnprotected: readonly string[]): Violation[] {
  if (!isStateful(r.type, r.props) || r.protect || allowUnprotected.includes(r.name)) return [];
  return [
    violation(
      RULES.stateful,
      `${r.type} "${r.name}" holds data but protect=false (limit: protect=true unless an operation declares it in allowUnprotected)`,
    ),
  ];
}

function publicSources(values: unknown): string[] {
  return (Array.isArray(values) ? values : []).filter((v): v is string => PUBLIC_SOURCES.has(String(v)));
}

/** Only TCP and UDP rules carry ports; an ICMP rule open to the world opens no database. */
function carriesPorts(protocol: unknown): boolean {
  return ["tcp", "udp"].includes(String(protocol).toLowerCase());
}

function openDataPorts(protocol: unknown, ports: unknown, sources: string[], where: string): string[] {
  if (sources.length === 0 || !carriesPorts(protocol)) return [];
  return [...DATA_PORTS]
    .filter(([port]) => portsCovered(ports, port))
    .map(([port, what]) => `${where} opens ${what} port ${port} to ${sources.join(", ")}`);
}

/** Databases, caches and queues are reachable only from the private network, as every seed insists. */
export function checkDataPlanePrivate(r: RuleResource): Violation[] {
  const found: string[] = [];
  const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
  switch (r.type) {
    case "digitalocean:index/firewall:Firewall":
      for (const rule of list(r.props.inboundRules)) {
        found.push(
          ...openDataPorts(
            rule.protocol,
            rule.portRange,
            publicSources(rule.sourceAddresses),
            `firewall "${r.name}"`,
          ),
        );
      }
      break;
    case "digitalocean:index/databaseFirewall:DatabaseFirewall":
      for (const rule of list(r.props.rules)) {
        if (rule.type === "ip_addr" && PUBLIC_SOURCES.has(String(rule.value))) {
          found.push(`database firewall "${r.name}" admits ip_addr ${String(rule.value)}`);
        }
      }
      break;
    case "linode:index/firewall:Firewall":
      for (const rule of list(r.props.inbounds)) {
        if (rule.action !== "ACCEPT") continue;
        const sources = [...publicSources(rule.ipv4s), ...publicSources(rule.ipv6s)];
        found.push(...openDataPorts(rule.protocol, rule.ports, sources, `firewall "${r.name}"`));
      }
      break;
    case "hcloud:index/firewall:Firewall":
      for (const rule of list(r.props.rules)) {
        if (rule.direction !== "in") continue;
        found.push(
          ...openDataPorts(rule.protocol, rule.port, publicSources(rule.sourceIps), `firewall "${r.name}"`),
        );
      }
      break;
    default:
      return [];
  }
  return found.map((f) => violation(RULES.privateData, `${f} (limit: private network only)`));
}

/** Every taggable resource carries the site's tag, for cost tracking and for the policies above. */
export function checkSiteTagged(r: RuleResource): Violation[] {
  return siteTagOf(r.type, r.props) === null
    ? [
        violation(
          RULES.tags,
          `${r.type} "${r.name}" has no site tag (limit: every taggable resource carries site:<id>)`,
        ),
      ]
    : [];
}

/** Sizes come from the allow-list for their catalogue. */
export function checkSizeAllowed(
  r: RuleResource,
  allowed: Readonly<Record<string, readonly string[]>>,
): Violation[] {
  return sizeOf(r.type, r.props)
    .filter(({ catalogue, size }) => !(allowed[catalogue] ?? []).includes(size))
    .map(({ catalogue, size }) =>
      violation(
        RULES.sizes,
        `${r.type} "${r.name}" asks for ${catalogue} size ${size} (limit: one of ${(allowed[catalogue] ?? []).join(", ") || "none"})`,
      ),
    );
}

/** The sites the stack's resources are tagged for. */
export function sitesOf(resources: readonly RuleResource[]): Set<string> {
  const sites = new Set<string>();
  for (const r of resources) {
    const site = siteTagOf(r.type, r.props);
    if (site) sites.add(site);
  }
  return sites;
}

/** One stack is one site: resources tagged for another site are a copy-paste waiting to cost money. */
export function checkOneSite(resources: readonly RuleResource[]): Violation[] {
  // Sorted: the engine's resource order is not stable across runs, the message must be.
  const sites = [...sitesOf(resources)].sort();
  return sites.length > 1
    ? [
        violation(
          RULES.oneSite,
          `resources are tagged for ${sites.length} sites: ${sites.join(", ")} (limit: 1)`,
        ),
      ]
    : [];
}

/** A per-site ceiling on the number of resources, against runaway loops in a program or a config. */
export function checkResourceCeiling(
  resources: readonly RuleResource[],
  ceilings: Readonly<Record<string, number>>,
  fallback: number,
): Violation[] {
  const [site] = [...sitesOf(resources)];
  const limit = (site && ceilings[site]) || fallback;
  return resources.length > limit
    ? [
        violation(
          RULES.ceiling,
          `stack for site ${site ?? "?"} has ${resources.length} resources (limit: ${limit})`,
        ),
      ]
    : [];
}
