import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { cloudInit, DO_ROLE_FROM_TAGS } from "../cloud-init";
import { CloudWatchLogGroups } from "../components/cloudwatch-log-groups";
import { ANYWHERE, DoPrivateNetwork, OPEN_EGRESS, type OutboundRule } from "../components/do-private-network";
import { ReplicatedDbDroplets } from "../components/replicated-db-droplets";
import { SidekiqDropletPool } from "../components/sidekiq-droplet-pool";
import { SpacesCdnBucket } from "../components/spaces-cdn-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import type { TheatlConfig } from "./spec";
import { numericId, SiteRoot, siteTags, stateful, type SiteContext } from "../site-context";

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

/** Private names the app connects to; records under `int.` follow the knobs, the names never change. */
export const THEATL_DB_PRIMARY = "db-primary.int";
export const THEATL_DB_REPLICA = "db-replica.int";
export const THEATL_REDIS = "redis.int";

/** Static per role family (see cloud-init.ts): only the compose services of that family. */
function userData(site: string, family: string, compose: string): string {
  return cloudInit({
    site,
    family,
    files: [
      { path: "/opt/stackyard/role-from-tags", content: DO_ROLE_FROM_TAGS, permissions: "0755" },
      { path: "/opt/mastodon/docker-compose.yml", content: compose },
    ],
    runcmd: [
      "cd /opt/mastodon && /opt/stackyard/role-from-tags > /opt/stackyard/tags && docker compose up -d",
    ],
  });
}

function composeFor(family: string, cfg: TheatlConfig): string {
  const s = cfg.spec;
  const logging = (svc: string) =>
    `    logging: {driver: awslogs, options: {awslogs-region: ${s.cloudwatch.region}, awslogs-group: /theatl/mastodon/${svc}}}`;
  const mastodonEnv = [
    `      DB_HOST: ${THEATL_DB_PRIMARY}.${s.domain}`,
    `      REPLICA_DB_HOST: ${THEATL_DB_REPLICA}.${s.domain}`,
    `      REDIS_HOST: ${THEATL_REDIS}.${s.domain}`,
    `      S3_BUCKET: ${s.spaces.mediaBucket}`,
    `      S3_ENDPOINT: https://${s.spaces.region}.digitaloceanspaces.com`,
  ];
  const svc = (name: string, image: string, extra: string[] = []) =>
    [`  ${name}:`, `    image: ${image}`, "    restart: always", ...extra, logging(name)].join("\n");
  const byFamily: Record<string, string[]> = {
    haproxy: [svc("haproxy", "haproxy:2.8", ["    ports: ['80:80', '443:443']"])],
    nginx: [svc("nginx", "nginx:1.26", ["    ports: ['80:80', '443:443']"])],
    web: [
      svc("web", s.mastodonImage, [
        "    command: bundle exec puma -C config/puma.rb",
        "    ports: ['3000:3000']",
        "    environment:",
        ...mastodonEnv,
      ]),
      svc("streaming", s.mastodonImage.replace("/mastodon:", "/mastodon-streaming:"), [
        "    ports: ['4000:4000']",
        "    environment:",
        ...mastodonEnv,
      ]),
    ],
    // The queue list comes from the droplet's sidekiq-q:* tags, written to /opt/stackyard/tags at boot.
    sidekiq: [
      svc("sidekiq", s.mastodonImage, [
        "    command: /opt/stackyard/sidekiq-from-tags",
        "    environment:",
        ...mastodonEnv,
      ]),
    ],
    postgres: [
      svc("db", `postgres:${s.postgres.version}`, [
        "    volumes: ['/mnt/data/postgres:/var/lib/postgresql/data']",
        "    ports: ['5432:5432']",
        "    # role:pg-primary runs read/write; role:pg-standby writes standby.signal; role:pg-fenced stops.",
      ]),
      svc("pgdump", `postgres:${s.postgres.version}`, [
        `    command: pg-dump-loop --every ${s.postgres.dumps.everyMinutes}m --to s3://${s.postgres.dumps.bucket}`,
      ]),
    ],
    redis: [
      svc("redis", "redis:7.2", [
        "    command: redis-server --bind 0.0.0.0 --protected-mode yes",
        "    ports: ['6379:6379']",
      ]),
    ],
  };
  return ["services:", ...(byFamily[family] ?? [])].join("\n");
}

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
  const ud = (family: string) => userData("theatl", family, composeFor(family, cfg));

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
      tags: ["site:theatl", ...ROLES.map((r) => `role:${r}`)],
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
      dns: { domain: domain.name, primaryName: THEATL_DB_PRIMARY, replicaName: THEATL_DB_REPLICA, ttl: 30 },
    },
    parent,
  );
  const droplet = (name: string, role: string, size: string, o: pulumi.CustomResourceOptions = parent) =>
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
      o,
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
      acl: "public-read",
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
      versioning: true,
    },
    parent,
  );

  // Apps: API + streamer droplets, sidekiq pool with its single scheduler.
  for (let i = 1; i <= s.web.count; i++) droplet(`theatl-web-${i}`, "web", s.web.size);
  const sidekiq = new SidekiqDropletPool(
    "theatl-sidekiq",
    {
      ctx,
      spec: s.sidekiq,
      region: s.region,
      image: s.image,
      vpcUuid,
      sshKeys: s.sshKeys,
      userData: ud("sidekiq"),
    },
    parent,
  );

  // Edge: nginx reverse proxy behind the HAProxy forward proxy, which holds the public address.
  droplet("theatl-nginx", "nginx", s.nginx.size);
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
