import { nodeRoles } from "../config/db-topology";
import { siteTags, type SiteContext } from "../site-context";
import type { InsyncSpec } from "./spec";

/** The seed's backup job; it moves with the replica set (first standby, else the primary). */
export const BACKUP_TAG = "backup:automysqlbackup";

/** Private names web and the mailers reach MySQL by (ct1's conf server holds these, not addresses). */
export const MYSQL_PRIMARY_NAME = "db-primary";
export const MYSQL_REPLICA_NAME = "db-replica";

/** The address of a region's VPC the spec states: the live VPC's id, or undefined (a new one). */
export function liveVpcId(spec: InsyncSpec, region: "nyc2" | "sgp1"): string | undefined {
  const v = spec.vpcs[region];
  return typeof v === "string" ? undefined : v.liveId;
}

export function vpcRange(spec: InsyncSpec, region: "nyc2" | "sgp1"): string {
  const v = spec.vpcs[region];
  return typeof v === "string" ? v : v.ipRange;
}

/** Tags of one of the 19 non-database droplets: site, env, roles, edge and removal markers. */
export function dropletTags(spec: InsyncSpec, name: string): string[] {
  const d = spec.droplets[name]!;
  const [first, ...more] = d.roles;
  const tags = siteTags({ site: "insync", env: d.env }, first!, ...more.map((r) => `role:${r}`));
  if (d.public) tags.push("edge:public");
  if (d.internal) tags.push("edge:internal");
  if (d.decommissionCandidate) tags.push("decommission-candidate");
  return tags;
}

/** The droplet's declared settings besides image, VPC and tags: what the live droplet has. */
export function dropletSettings(spec: InsyncSpec, name: string) {
  const d = spec.droplets[name]!;
  return {
    name,
    region: d.region,
    size: d.size,
    monitoring: d.monitoring,
    ipv6: d.ipv6,
    backups: d.backups ?? d.stateful,
  };
}

/** Extra tags of a MySQL node: the backup job runs on the first standby, else on the primary. */
export function mysqlExtraTags(spec: InsyncSpec, role: string, standbyIndex: number): string[] {
  const hasStandby = spec.mysql.replicas.filter((r) => r !== spec.mysql.primary).length > 0;
  return (hasStandby ? standbyIndex === 0 : role === "primary") ? [BACKUP_TAG] : [];
}

/** A MySQL node's tags as ReplicatedDbDroplets sets them (role from the knobs, then extras). */
export function mysqlNodeTags(spec: InsyncSpec, node: string): string[] {
  const names = Object.keys(spec.mysql.nodes);
  const roles = nodeRoles(names, spec.mysql.primary, spec.mysql.replicas);
  const standbys = names.filter((n) => roles[n] === "standby");
  const ctx: SiteContext = { site: "insync", env: spec.env };
  const role = roles[node]!;
  return siteTags(ctx, `mysql-${role}`, ...mysqlExtraTags(spec, role, standbys.indexOf(node)));
}
