/**
 * What the policy pack knows about the resource types the site programs use: which hold state,
 * which carry the site's tags and where, which are sized from a catalogue, and which open ports.
 * Type tokens are the engine's (`<package>:<module>/<name>:<Name>`).
 */

/**
 * Types whose loss loses data: databases, volumes, buckets, and droplets/servers that run a database.
 * A Kubernetes cluster counts: replacing it loses its volumes and every workload's state with it.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "digitalocean:index/databaseCluster:DatabaseCluster",
  "digitalocean:index/kubernetesCluster:KubernetesCluster",
  "digitalocean:index/databaseReplica:DatabaseReplica",
  "digitalocean:index/volume:Volume",
  "digitalocean:index/spacesBucket:SpacesBucket",
  "linode:index/volume:Volume",
  "linode:index/objectStorageBucket:ObjectStorageBucket",
  "hcloud:index/volume:Volume",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
]);

/** Tags that mark a compute node as running a database (the programs tag DB hosts by role). */
const DB_ROLE_TAG = /^role:(pg|mysql|db|postgres|redis)/;

/** Where a type keeps its tags: a list of `key:value` strings, or a key/value map. */
type TagShape = { kind: "list"; prop: string } | { kind: "map"; prop: string };

const TAG_SHAPES: Record<string, TagShape> = {
  "digitalocean:index/droplet:Droplet": { kind: "list", prop: "tags" },
  "digitalocean:index/volume:Volume": { kind: "list", prop: "tags" },
  "digitalocean:index/databaseCluster:DatabaseCluster": { kind: "list", prop: "tags" },
  "digitalocean:index/databaseReplica:DatabaseReplica": { kind: "list", prop: "tags" },
  "digitalocean:index/kubernetesCluster:KubernetesCluster": { kind: "list", prop: "tags" },
  "linode:index/instance:Instance": { kind: "list", prop: "tags" },
  "linode:index/volume:Volume": { kind: "list", prop: "tags" },
  "linode:index/firewall:Firewall": { kind: "list", prop: "tags" },
  "hcloud:index/server:Server": { kind: "map", prop: "labels" },
  "hcloud:index/volume:Volume": { kind: "map", prop: "labels" },
  "hcloud:index/network:Network": { kind: "map", prop: "labels" },
  "hcloud:index/firewall:Firewall": { kind: "map", prop: "labels" },
  "aws:s3/bucket:Bucket": { kind: "map", prop: "tags" },
  "aws:cloudwatch/logGroup:LogGroup": { kind: "map", prop: "tags" },
  "aws:cloudfront/distribution:Distribution": { kind: "map", prop: "tags" },
  "aws:iam/user:User": { kind: "map", prop: "tags" },
  "aws:wafv2/webAcl:WebAcl": { kind: "map", prop: "tags" },
};

/** The site a resource is tagged for, `null` when it carries no site tag, `undefined` when the type takes no tags. */
export function siteTagOf(type: string, props: Record<string, unknown>): string | null | undefined {
  const shape = TAG_SHAPES[type];
  if (!shape) return undefined;
  const raw = props[shape.prop];
  if (shape.kind === "list") {
    const tag = Array.isArray(raw)
      ? raw.find((t) => typeof t === "string" && t.startsWith("site:"))
      : undefined;
    return tag ? String(tag).slice("site:".length) : null;
  }
  const map = (raw ?? {}) as Record<string, unknown>;
  return typeof map.site === "string" ? map.site : null;
}

/** Compute nodes that hold data when they run a database (tagged or labelled by role). */
const COMPUTE_TYPES: ReadonlySet<string> = new Set([
  "digitalocean:index/droplet:Droplet",
  "linode:index/instance:Instance",
  "hcloud:index/server:Server",
]);

/** True when the resource holds data: a stateful type, or a compute node tagged as a database host. */
export function isStateful(type: string, props: Record<string, unknown>): boolean {
  if (STATEFUL_TYPES.has(type)) return true;
  // A firewall's `tags` name the droplets it targets, not itself: only compute nodes count here.
  if (!COMPUTE_TYPES.has(type)) return false;
  const tags = props.tags;
  if (Array.isArray(tags)) return tags.some((t) => typeof t === "string" && DB_ROLE_TAG.test(t));
  const labels = props.labels as Record<string, unknown> | undefined;
  return typeof labels?.role === "string" && DB_ROLE_TAG.test(`role:${labels.role}`);
}

/** The catalogue size a resource asks for, with the catalogue it comes from. */
export function sizeOf(type: string, props: Record<string, unknown>): { catalogue: string; size: string }[] {
  const one = (catalogue: string, v: unknown) => (typeof v === "string" ? [{ catalogue, size: v }] : []);
  switch (type) {
    case "digitalocean:index/droplet:Droplet":
      return one("digitalocean-droplet", props.size);
    case "digitalocean:index/databaseCluster:DatabaseCluster":
    case "digitalocean:index/databaseReplica:DatabaseReplica":
      return one("digitalocean-database", props.size);
    case "digitalocean:index/kubernetesCluster:KubernetesCluster":
      return one("digitalocean-droplet", (props.nodePool as Record<string, unknown> | undefined)?.size);
    case "digitalocean:index/kubernetesNodePool:KubernetesNodePool":
      return one("digitalocean-droplet", props.size);
    case "linode:index/instance:Instance":
      return one("linode-instance", props.type);
    case "hcloud:index/server:Server":
      return one("hcloud-server", props.serverType);
    default:
      return [];
  }
}

/** Ports on which a database, cache or queue listens: never open to the internet. */
export const DATA_PORTS: ReadonlyMap<number, string> = new Map([
  [5432, "PostgreSQL"],
  [3306, "MySQL"],
  [6379, "Redis"],
  [11300, "beanstalkd"],
  [9200, "Elasticsearch"],
  [25060, "managed database"],
]);

export const PUBLIC_SOURCES: ReadonlySet<string> = new Set(["0.0.0.0/0", "::/0", "0.0.0.0", "::"]);

/** Ports covered by a port expression such as "5432", "5000-6000", "all" or "" (all). */
export function portsCovered(expr: unknown, port: number): boolean {
  if (expr === undefined || expr === null || expr === "" || expr === "all" || expr === "1-65535") return true;
  return String(expr)
    .split(",")
    .some((part) => {
      const [lo, hi] = part.trim().split("-").map(Number);
      return hi === undefined ? lo === port : lo <= port && port <= hi;
    });
}
