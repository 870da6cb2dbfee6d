import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { ANYWHERE, DoPrivateNetwork, OPEN_EGRESS } from "../components/do-private-network";
import { ReplicatedDbDroplets } from "../components/replicated-db-droplets";
import { S3PrivateBucket } from "../components/s3-private-bucket";
import { INSYNC_ROLES, type InsyncConfig } from "./spec";
import { SiteRoot, siteTags, stateful, type SiteContext } from "../site-context";

const MYSQL_ROLES = ["mysql-primary", "mysql-standby", "mysql-fenced"];
/** Hosts that talk to the app's data stores (the mailers run on the beanstalkd host). */
const APP = ["role:web", "role:license", "role:queue"];
/** The seed's backup job; it moves with the replica set (first standby, else the primary). */
export const BACKUP_TAG = "backup:automysqlbackup";

/**
 * Insync (seed 003): 21 droplets that already exist, adopted as they are (image and userData are
 * ignored, `importId` adopts the live droplet). ct1 is the only SSH entry: port 58878 from the admin
 * networks; every other droplet accepts port 22 only from ct1.
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
      vpcs: [
        { region: "nyc2", ipRange: s.vpcs.nyc2 },
        { region: "sgp1", ipRange: s.vpcs.sgp1 },
      ],
      tags: [
        "site:insync",
        "edge:public",
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
        {
          name: "web-backends",
          targetTags: ["role:web", "role:license"],
          inbound: [{ protocol: "tcp", ports: String(s.webBackendPort), fromTags: ["role:web-lb"] }],
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
    const [first, ...more] = d.roles;
    const tags = siteTags({ ...ctx, env: d.env }, first!, ...more.map((r) => `role:${r}`));
    if (d.public) tags.push("edge:public");
    if (d.decommissionCandidate) tags.push("decommission-candidate");
    const adopt: pulumi.CustomResourceOptions = { ignoreChanges: ["image", "userData"], import: d.importId };
    new digitalocean.Droplet(
      name,
      {
        name,
        region: d.region,
        size: d.size,
        image: s.image,
        vpcUuid: net.vpcIds[d.region],
        monitoring: true,
        backups: d.stateful ? true : undefined,
        tags,
      },
      d.stateful ? stateful(root, adopt) : { ...adopt, parent: root },
    );
  }

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
      extraTags: (_node, role, standbyIndex) =>
        (
          s.mysql.replicas.filter((r) => r !== s.mysql.primary).length > 0
            ? standbyIndex === 0
            : role === "primary"
        )
          ? [BACKUP_TAG]
          : [],
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
      expireDays: s.mysql.backups.retentionDays,
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
    endpoints: {
      sshEntry: { host: s.bastion.host, port: s.bastion.sshPort },
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
