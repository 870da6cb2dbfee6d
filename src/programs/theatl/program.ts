import * as aws from "@pulumi/aws";
import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { CloudWatchLogGroups } from "../components/cloudwatch-log-groups";
import { ANYWHERE, DoPrivateNetwork, OPEN_EGRESS, type OutboundRule } from "../components/do-private-network";
import { ReplicatedDbDroplets } from "../components/replicated-db-droplets";
import { SidekiqDropletPool } from "../components/sidekiq-droplet-pool";
import { SpacesCdnBucket } from "../components/spaces-cdn-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import type { TheatlConfig } from "./spec";
import { THEATL_NGINX, THEATL_WEB } from "./edge-config";
import { numericId, SiteRoot, siteLabels, siteTags, stateful, type SiteContext } from "../site-context";
import {
  LOG_PREFIX,
  PG_DUMP_TAG,
  THEATL_DB_PRIMARY,
  THEATL_DB_REPLICA,
  THEATL_FAMILIES,
  THEATL_REDIS,
  composeFor,
  publishedFileNames,
  publishedFiles,
  userDataOutput,
  type KeyPair,
  type TheatlFamily,
} from "./hosts";
import { theatlSecrets } from "./secrets";

/** Every role tag a theATL firewall keys on; all exist up front so a failover only moves tags. */
const ROLES = [
  "haproxy",
  "nginx",
  "web",
  "sidekiq",
  "pg-primary",
  "pg-standby",
  "pg-fenced",
  "redis",
] as const;
const APP = ["role:web", "role:sidekiq"];

/**
 * theATL.social (seed 002), read top to bottom like its ops doc: network, data, apps, edge.
 */
export async function theatlProgram(
  cfg: TheatlConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const s = cfg.spec;
  const ctx: SiteContext = { site: "theatl", env: s.env };
  const root = new SiteRoot("theatl", opts);
  const parent = { parent: root };

  // Network: one VPC, least-access firewalls by tag. "All but the forward proxy sits behind a firewall."
  const vpcOnly: OutboundRule[] = [
    { protocol: "tcp", ports: "1-65535", toCidrs: [s.vpc.ipRange] },
    { protocol: "udp", ports: "53", toCidrs: ANYWHERE },
    { protocol: "tcp", ports: "53", toCidrs: ANYWHERE },
    { protocol: "tcp", ports: "80", toCidrs: ANYWHERE },
    { protocol: "tcp", ports: "443", toCidrs: ANYWHERE },
  ];
  const net = new DoPrivateNetwork(
    "theatl",
    {
      name: "theatl",
      vpcs: [{ region: s.region, ipRange: s.vpc.ipRange, description: "theATL.social private network" }],
      tags: ["site:theatl", ...ROLES.map((r) => `role:${r}`), PG_DUMP_TAG],
      firewalls: [
        {
          name: "admin-ssh",
          targetTags: ["site:theatl"],
          inbound: [{ protocol: "tcp", ports: "22", fromCidrs: s.adminCidrs }],
          outbound: vpcOnly,
        },
        { name: "federation-egress", targetTags: APP, outbound: OPEN_EGRESS },
        {
          name: "haproxy-public",
          targetTags: ["role:haproxy"],
          inbound: [
            { protocol: "tcp", ports: "80", fromCidrs: ANYWHERE },
            { protocol: "tcp", ports: "443", fromCidrs: ANYWHERE },
          ],
        },
        {
          name: "nginx-from-haproxy",
          targetTags: ["role:nginx"],
          inbound: [
            { protocol: "tcp", ports: "80", fromTags: ["role:haproxy"] },
            { protocol: "tcp", ports: "443", fromTags: ["role:haproxy"] },
          ],
        },
        {
          name: "web-from-nginx",
          targetTags: ["role:web"],
          inbound: [
            { protocol: "tcp", ports: "3000", fromTags: ["role:nginx"] },
            { protocol: "tcp", ports: "4000", fromTags: ["role:nginx"] },
          ],
        },
        // Only the primary admits writes; standbys replicate from it. A fenced node is in neither.
        {
          name: "pg-primary",
          targetTags: ["role:pg-primary"],
          inbound: [
            { protocol: "tcp", ports: "5432", fromTags: [...APP, "role:pg-standby"] },
            ...(s.postgres.clientCidrs.length > 0
              ? [{ protocol: "tcp" as const, ports: "5432", fromCidrs: s.postgres.clientCidrs }]
              : []),
          ],
        },
        {
          name: "pg-standby-reads",
          targetTags: ["role:pg-standby"],
          inbound: [{ protocol: "tcp", ports: "5432", fromTags: APP }],
        },
        {
          name: "redis",
          targetTags: ["role:redis"],
          inbound: [{ protocol: "tcp", ports: "6379", fromTags: APP }],
        },
      ],
    },
    parent,
  );
  const vpcUuid = net.vpcIds[s.region]!;
  const domain = new digitalocean.Domain("theatl-domain", { name: s.domain }, parent);

  // Hosts: what each role family boots with (credentials, the deploy timer) and what it pulls.
  const secrets = theatlSecrets(root);
  const deployBucket = new SpacesCdnBucket(
    "theatl-deploy",
    { bucketName: s.spaces.deployBucket, region: s.spaces.region, acl: "private" },
    parent,
  );
  const spacesKey = (
    name: string,
    bucket: pulumi.Input<string>,
    permission: string,
  ): pulumi.Output<KeyPair> => {
    const k = new digitalocean.SpacesKey(name, { name, grants: [{ bucket, permission }] }, parent);
    return pulumi.secret(pulumi.all([k.accessKey, k.secretKey]).apply(([id, secret]) => ({ id, secret })));
  };
  const deployKey = spacesKey("theatl-deploy-read", deployBucket.bucketName, "read");
  const dumpsKey = spacesKey("theatl-pg-dumps-write", s.postgres.dumps.bucket, "readwrite");
  const mediaKey = spacesKey("theatl-media-write", s.spaces.mediaBucket, "readwrite");
  // awslogs ships from dockerd: one IAM user per site that may only write to the site's log groups.
  const logsUser = new aws.iam.User(
    "theatl-awslogs",
    { name: "theatl-awslogs", tags: siteLabels(ctx, "logs") },
    parent,
  );
  new aws.iam.UserPolicy(
    "theatl-awslogs",
    {
      user: logsUser.name,
      name: "theatl-awslogs-write",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `arn:aws:logs:${s.cloudwatch.region}:*:log-group:${LOG_PREFIX}/*:*`,
          },
        ],
      }),
    },
    parent,
  );
  const logsKey = new aws.iam.AccessKey("theatl-awslogs", { user: logsUser.name }, parent);
  const awslogs: pulumi.Output<KeyPair> = pulumi.secret(
    pulumi.all([logsKey.id, logsKey.secret]).apply(([id, secret]) => ({ id, secret })),
  );
  const ud = (family: TheatlFamily) =>
    userDataOutput(family, {
      deployBucket: s.spaces.deployBucket,
      spacesRegion: s.spaces.region,
      deploy: deployKey,
      awslogs,
      dumps: family === "postgres" ? dumpsKey : undefined,
    });

  // Data: PostgreSQL primary + WAL-streaming hot standbys, Redis, Spaces.
  const pg = new ReplicatedDbDroplets(
    "theatl-pg",
    {
      ctx,
      rolePrefix: "pg",
      nodes: Object.fromEntries(
        Object.entries(s.postgres.nodes).map(([n, v]) => [n, { region: s.region, ...v }]),
      ),
      primary: s.postgres.primary,
      replicas: s.postgres.replicas,
      image: s.image,
      userData: ud("postgres"),
      vpcIds: net.vpcIds,
      sshKeys: s.sshKeys,
      ignoreSshKeyChanges: true,
      // pg_dump runs on one node: the first standby, or the primary when there is none (seed: dumps
      // every 30 minutes beside a hot standby). The tag moves in place with the knobs.
      extraTags: (_node, role, standbyIndex) =>
        (s.postgres.replicas.length > 0 ? role === "standby" && standbyIndex === 0 : role === "primary")
          ? [PG_DUMP_TAG]
          : [],
      dns: { domain: domain.name, primaryName: THEATL_DB_PRIMARY, replicaName: THEATL_DB_REPLICA, ttl: 30 },
    },
    parent,
  );
  // sshKeys are installed only when a droplet is created; a new list must not replace running hosts.
  const droplet = (
    name: string,
    role: TheatlFamily,
    size: string,
    o: pulumi.CustomResourceOptions = parent,
  ) =>
    new digitalocean.Droplet(
      name,
      {
        name,
        region: s.region,
        size,
        image: s.image,
        vpcUuid,
        sshKeys: s.sshKeys,
        userData: ud(role),
        monitoring: true,
        ipv6: true,
        tags: siteTags(ctx, role),
      },
      { ...o, ignoreChanges: ["sshKeys"] },
    );
  // Sidekiq's queue lives in Redis: losing the host loses jobs, so it is protected like a database.
  const redis = droplet("theatl-redis", "redis", s.redis.size, stateful(root));
  new digitalocean.DnsRecord(
    "theatl-redis-int",
    { domain: domain.name, type: "A", name: THEATL_REDIS, value: redis.ipv4AddressPrivate, ttl: 30 },
    parent,
  );
  const media = new SpacesCdnBucket(
    "theatl-media",
    {
      bucketName: s.spaces.mediaBucket,
      region: s.spaces.region,
      // Mastodon writes each object public-read (S3_PERMISSION) and keeps followers-only media
      // private; the bucket itself must not list every key.
      acl: "private",
      cdn: { ttlSeconds: s.spaces.cdnTtlSeconds },
    },
    parent,
  );
  new SpacesCdnBucket(
    "theatl-pg-dumps",
    {
      bucketName: s.postgres.dumps.bucket,
      region: s.spaces.region,
      acl: "private",
      expireDays: s.postgres.dumps.retentionDays,
      noncurrentExpireDays: s.postgres.dumps.retentionDays,
      versioning: true,
    },
    parent,
  );

  // Apps: API + streamer droplets, sidekiq pool with its single scheduler.
  const webDroplets = Array.from({ length: s.web.count }, (_, i) =>
    droplet(`theatl-web-${i + 1}`, "web", s.web.size),
  );
  const sidekiq = new SidekiqDropletPool(
    "theatl-sidekiq",
    {
      ctx,
      spec: s.sidekiq,
      region: s.region,
      image: s.image,
      vpcUuid,
      sshKeys: s.sshKeys,
      ignoreSshKeyChanges: true,
      userData: ud("sidekiq"),
    },
    parent,
  );

  // What changes with config reaches the hosts at run time: each family's files in the deploy bucket.
  const published = pulumi
    .all([secrets, mediaKey, media.cdnEndpoint!])
    .apply(([sec, mk, cdn]) =>
      Object.fromEntries(
        THEATL_FAMILIES.map((f) => [f, publishedFiles(f, s, { secrets: sec, media: mk, cdnEndpoint: cdn })]),
      ),
    );
  for (const family of THEATL_FAMILIES) {
    for (const file of publishedFileNames(family, s)) {
      // The compose file holds no secret (they come from host.env by `${VAR}`), so it stays readable.
      const content =
        file === "docker-compose.yml"
          ? composeFor(family, s)
          : pulumi.secret(published.apply((p) => p[family]![file]!));
      new digitalocean.SpacesBucketObject(
        `theatl-deploy-${family}-${file.replace(/\//g, "-")}`,
        {
          bucket: deployBucket.bucketName,
          region: s.spaces.region,
          key: `${family}/${file}`,
          acl: "private",
          content,
        },
        parent,
      );
    }
  }

  // Edge: nginx reverse proxy behind the HAProxy forward proxy, which holds the public address.
  // Each finds its upstreams by a private name with one record per droplet (edge-config.ts).
  const nginx = droplet("theatl-nginx", "nginx", s.nginx.size);
  const privateName = (resource: string, name: string, d: digitalocean.Droplet) =>
    new digitalocean.DnsRecord(
      resource,
      { domain: domain.name, type: "A", name, value: d.ipv4AddressPrivate, ttl: 30 },
      parent,
    );
  privateName("theatl-nginx-int", THEATL_NGINX, nginx);
  webDroplets.forEach((d, i) => privateName(`theatl-web-${i + 1}-int`, THEATL_WEB, d));
  const haproxy = droplet("theatl-haproxy", "haproxy", s.haproxy.size);
  const edgeIp = new digitalocean.ReservedIp(
    "theatl-edge",
    { region: s.region, dropletId: numericId(haproxy) },
    parent,
  );
  new digitalocean.DnsRecord(
    "theatl-apex",
    { domain: domain.name, type: "A", name: "@", value: edgeIp.ipAddress, ttl: 300 },
    parent,
  );

  const logs = new CloudWatchLogGroups(
    "theatl-logs",
    {
      ctx,
      prefix: "/theatl/mastodon",
      services: s.cloudwatch.services,
      region: s.cloudwatch.region,
      retentionDays: s.cloudwatch.retentionDays,
    },
    parent,
  );

  const standbys = Object.keys(pg.roles).filter((n) => pg.roles[n] === "standby");
  const outputs = {
    site: cfg.site,
    configRevision: cfg.configRevision,
    env: s.env,
    region: s.region,
    ...sidekiqOutputs(s.sidekiq, { droplet: "theatl-sidekiq-scheduler" }),
    sidekiqDroplets: sidekiq.dropletNames,
    primary: s.postgres.primary,
    replicas: standbys,
    fenced: Object.keys(pg.roles).filter((n) => pg.roles[n] === "fenced"),
    dbPrimaryPrivateIp: pg.privateIps[s.postgres.primary],
    endpoints: {
      publicIp: edgeIp.ipAddress,
      domain: s.domain,
      dbPrimaryHost: `${THEATL_DB_PRIMARY}.${s.domain}`,
      dbReplicaHost: `${THEATL_DB_REPLICA}.${s.domain}`,
      redisHost: `${THEATL_REDIS}.${s.domain}`,
      mediaCdn: media.cdnEndpoint,
    },
    logGroups: logs.groupNames,
    externals: s.externals,
  };
  return root.finish(outputs);
}
