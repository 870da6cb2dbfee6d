import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { ANYWHERE, DoPrivateNetwork, OPEN_EGRESS } from "../components/do-private-network";
import { ReplicatedDbDroplets } from "../components/replicated-db-droplets";
import { S3PrivateBucket } from "../components/s3-private-bucket";
import { INSYNC_ROLES, type InsyncConfig } from "./spec";
import { SiteRoot, stateful, type SiteContext } from "../site-context";
import {
  dropletSettings,
  dropletTags,
  liveVpcId,
  MYSQL_PRIMARY_NAME,
  MYSQL_REPLICA_NAME,
  mysqlExtraTags,
  vpcRange,
} from "./fleet";

export { BACKUP_TAG } from "./fleet";

const MYSQL_ROLES = ["mysql-primary", "mysql-standby", "mysql-fenced"];
/**
 * Hosts that talk to the app's data stores and to ct1's conf server: web, the /license backends of
 * the same app, and the mailers (mailer and periodic_mailer run on the beanstalkd host).
 */
const APP = ["role:web", "role:license", "role:queue"];

/**
 * Insync (seed 003): 21 droplets that already exist, adopted as they are: `importId` adopts the live
 * droplet, which keeps its VPC, monitoring and IPv6 as the stack file states them (image and
 * userData are ignored), and every droplet is retained if its line is removed. ct1 is the only SSH
 * entry (keys only): port 58878 from the admin networks; every other droplet accepts port 22 only
 * from ct1. Web and the mailers reach MySQL by `db-primary.<privateDns.domain>`, which follows the
 * failover knob.
 */
export async function insyncProgram(
  cfg: InsyncConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const s = cfg.spec;
  const ctx: SiteContext = { site: "insync", env: s.env };
  const root = new SiteRoot("insync", opts);
  const parent = { parent: root };

  const net = new DoPrivateNetwork(
    "insync",
    {
      name: "insync",
      vpcs: (["nyc2", "sgp1"] as const).map((region) => ({
        region,
        ipRange: vpcRange(s, region),
        existingId: liveVpcId(s, region),
      })),
      tags: [
        "site:insync",
        "edge:public",
        "edge:internal",
        ...INSYNC_ROLES.map((r) => `role:${r}`),
        ...MYSQL_ROLES.map((r) => `role:${r}`),
      ],
      firewalls: [
        {
          name: "bastion-ssh",
          targetTags: ["role:bastion"],
          inbound: [{ protocol: "tcp", ports: String(s.bastion.sshPort), fromCidrs: s.adminCidrs }],
        },
        {
          name: "ssh-via-bastion",
          targetTags: ["site:insync"],
          inbound: [{ protocol: "tcp", ports: "22", fromTags: ["role:bastion"] }],
        },
        {
          name: "public-https",
          targetTags: ["edge:public"],
          inbound: [
            { protocol: "tcp", ports: "80", fromCidrs: ANYWHERE },
            { protocol: "tcp", ports: "443", fromCidrs: ANYWHERE },
          ],
        },
        // dev's private PyPI and hg.insynchq.com: the site's hosts and the admins, never the Internet.
        {
          name: "internal-https",
          targetTags: ["edge:internal"],
          inbound: [
            { protocol: "tcp", ports: "80", fromTags: ["site:insync"], fromCidrs: s.adminCidrs },
            { protocol: "tcp", ports: "443", fromTags: ["site:insync"], fromCidrs: s.adminCidrs },
          ],
        },
        // Only Insync's own load balancer: mrkr-web-lb (mrkr.io) carries role:mrkr, not role:web-lb.
        {
          name: "web-backends",
          targetTags: ["role:web", "role:license"],
          inbound: [{ protocol: "tcp", ports: String(s.webBackendPort), fromTags: ["role:web-lb"] }],
        },
        // Seed: ct1's conf server "stores configuration that the web and mailer uses".
        {
          name: "conf-server",
          targetTags: ["role:bastion"],
          inbound: [{ protocol: "tcp", ports: String(s.bastion.confServerPort), fromTags: APP }],
        },
        // ct1's conf server and web restarts talk to the queue and the database too.
        {
          name: "beanstalkd",
          targetTags: ["role:queue"],
          inbound: [
            { protocol: "tcp", ports: "11300", fromTags: ["role:web", "role:license", "role:bastion"] },
          ],
        },
        {
          name: "mysql-primary",
          targetTags: ["role:mysql-primary"],
          inbound: [
            { protocol: "tcp", ports: "3306", fromTags: [...APP, "role:bastion", "role:mysql-standby"] },
          ],
        },
        {
          name: "redis",
          targetTags: ["role:redis"],
          inbound: [{ protocol: "tcp", ports: "6379", fromTags: APP }],
        },
        { name: "egress", targetTags: ["site:insync"], outbound: OPEN_EGRESS },
      ],
    },
    parent,
  );

  for (const [name, d] of Object.entries(s.droplets)) {
    // A removed line (the seed's own removal list) forgets the droplet; the server stays until an
    // operator deletes it by hand. Stateful hosts are also protected.
    const adopt: pulumi.CustomResourceOptions = {
      ignoreChanges: ["image", "userData"],
      import: d.importId,
      retainOnDelete: true,
    };
    new digitalocean.Droplet(
      name,
      {
        ...dropletSettings(s, name),
        image: s.image,
        vpcUuid: net.vpcIds[d.region],
        tags: dropletTags(s, name),
      },
      d.stateful ? stateful(root, adopt) : { ...adopt, parent: root },
    );
  }

  // A zone of private names (delegated from insynchq.com to DigitalOcean; see docs/site-programs.md).
  const privateZone = new digitalocean.Domain(
    "insync-private-dns",
    { name: s.mysql.privateDns.domain },
    parent,
  );
  const mysql = new ReplicatedDbDroplets(
    "insync-mysql",
    {
      ctx,
      rolePrefix: "mysql",
      nodes: s.mysql.nodes,
      primary: s.mysql.primary,
      replicas: s.mysql.replicas,
      image: s.image,
      vpcIds: net.vpcIds,
      adopted: true,
      extraTags: (_node, role, standbyIndex) => mysqlExtraTags(s, role, standbyIndex),
      dns: {
        domain: privateZone.name,
        primaryName: MYSQL_PRIMARY_NAME,
        replicaName: MYSQL_REPLICA_NAME,
        ttl: s.mysql.privateDns.ttl,
      },
    },
    parent,
  );

  const backups = new S3PrivateBucket(
    "insync-db-backups",
    {
      ctx,
      role: "mysql-backups",
      bucketName: s.mysql.backups.bucket,
      region: s.mysql.backups.region,
      versioning: true,
      // Adopting must not change the live bucket's lifecycle: a new expiry rule would delete every
      // older backup on the first apply. Only an explicit `expireAdopted` puts it on.
      expireDays:
        s.mysql.backups.importId === undefined || s.mysql.backups.expireAdopted
          ? s.mysql.backups.retentionDays
          : undefined,
      importId: s.mysql.backups.importId,
    },
    parent,
  );

  const roles = mysql.roles;
  const nodesWith = (r: string) => Object.keys(roles).filter((n) => roles[n] === r);
  const standbys = nodesWith("standby");
  return root.finish({
    site: cfg.site,
    configRevision: cfg.configRevision,
    env: s.env,
    dropletCount: Object.keys(s.droplets).length + Object.keys(s.mysql.nodes).length,
    droplets: Object.fromEntries(
      Object.entries(s.droplets).map(([n, d]) => [n, { region: d.region, roles: d.roles, env: d.env }]),
    ),
    primary: s.mysql.primary,
    replicas: standbys,
    fenced: nodesWith("fenced"),
    backupNode: standbys[0] ?? s.mysql.primary,
    primaryPrivateIp: mysql.privateIps[s.mysql.primary],
    /** The DB host web and the mailers read from ct1's conf server. */
    dbPrimaryHost: `${MYSQL_PRIMARY_NAME}.${s.mysql.privateDns.domain}`,
    endpoints: {
      sshEntry: { host: s.bastion.host, port: s.bastion.sshPort, auth: s.bastion.sshAuth },
      confServer: { host: s.bastion.host, port: s.bastion.confServerPort },
      publicHosts: Object.entries(s.droplets)
        .filter(([, d]) => d.public)
        .map(([n, d]) => ({ droplet: n, hostnames: d.hostnames })),
      backupBucket: backups.bucketName,
    },
    decommissionCandidates: Object.entries(s.droplets)
      .filter(([, d]) => d.decommissionCandidate)
      .map(([n]) => n),
    externals: s.externals,
  });
}
