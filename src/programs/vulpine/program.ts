import * as aws from "@pulumi/aws";
import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import { cloudInit } from "../cloud-init";
import { renderCompose, sidekiqServices, type ComposeNetwork, type ComposeService } from "../compose";
import { S3CdnOrigin } from "../components/s3-cdn-origin";
import { sidekiqOutputs } from "../config/sidekiq";
import type { VulpineConfig } from "./spec";
import { numericId, SiteRoot, siteLabels, siteTags, stateful, type SiteContext } from "../site-context";
import { composeSyncHost } from "../compose-sync";
import { COMPOSE_DIR, MASTODON_ENV_FILE, s3RegionOf } from "./host-files";

export const VULPINE_COMPOSE_KEY = "smithwicks/docker-compose.yml";

/** Where Mastodon finds its media: the S3 bucket, served through CloudFront. */
export interface VulpineMediaWiring {
  bucket: string;
  region: string;
  /** The CDN hostname media URLs carry (S3_ALIAS_HOST). */
  aliasHost: string;
}

/**
 * The seed's per-service networks: each container joins only the networks it needs, and only
 * external_network reaches the Internet. Mastodon's processes read their secrets from the
 * operator-held `.env.production` and their wiring (hosts, ports, bucket) from `environment`,
 * which compose lets win over the env file.
 */
export function vulpineCompose(
  cfg: VulpineConfig,
  media: VulpineMediaWiring,
): {
  services: Record<string, ComposeService>;
  networks: Record<string, ComposeNetwork>;
} {
  const s = cfg.spec;
  const img = s.compose.mastodonImage;
  const networks: Record<string, ComposeNetwork> = {
    external_network: { internal: false, ipv4Subnet: s.ipv4Nat, ipv6Subnet: s.ipv6.range },
    internal_network: { internal: true },
    db_network: { internal: true },
    es_network: { internal: true },
    redis_network: { internal: true },
  };
  const data = {
    DB_HOST: "db",
    DB_PORT: "5432",
    REDIS_HOST: "redis",
    REDIS_PORT: "6379",
    S3_ENABLED: "true",
    S3_BUCKET: media.bucket,
    S3_REGION: media.region,
    // The bucket blocks public ACLs (only CloudFront reads it): Mastodon's default `public-read` would be refused.
    S3_PERMISSION: "private",
    S3_ALIAS_HOST: media.aliasHost,
  };
  const search = { ES_ENABLED: "true", ES_HOST: "es", ES_PORT: "9200" };
  const mastodon = (env: Record<string, string>) => ({ envFile: [MASTODON_ENV_FILE], environment: env });
  const sidekiq = Object.fromEntries(
    Object.entries(
      sidekiqServices(img, s.sidekiq, ["external_network", "db_network", "es_network", "redis_network"]),
    ).map(([name, svc]) => [name, { ...svc, ...mastodon({ ...data, ...search, ...svc.environment }) }]),
  );
  const services: Record<string, ComposeService> = {
    nginx: {
      image: "nginx:1.26",
      replicas: 1,
      // The seed's public address is nginx's own, on the routed /64.
      networks: [
        { name: "external_network", aliases: [], ipv6Address: s.ipv6.nginxAddress },
        "internal_network",
      ],
      ports: ["80:80", "443:443"],
      // certbot runs on the host (seed: /etc/cron.daily/certbot); nginx reads its live certificates.
      volumes: ["/etc/nginx:/etc/nginx:ro", "/etc/letsencrypt:/etc/letsencrypt:ro"],
    },
    web: {
      image: img,
      command: "bundle exec puma -C config/puma.rb",
      replicas: s.compose.scale.web,
      networks: [
        "external_network",
        "db_network",
        "es_network",
        "redis_network",
        { name: "internal_network", aliases: ["fe_web"] },
      ],
      ...mastodon({ ...data, ...search }),
    },
    streaming: {
      image: img.replace("/mastodon:", "/mastodon-streaming:"),
      command: "node ./streaming/index.js",
      replicas: s.compose.scale.streaming,
      networks: [
        "external_network",
        "db_network",
        "redis_network",
        { name: "internal_network", aliases: ["fe_streaming"] },
      ],
      ...mastodon({ ...data }),
    },
    ...sidekiq,
    es: {
      image: "docker.elastic.co/elasticsearch/elasticsearch:7.17.25",
      replicas: 1,
      networks: ["es_network"],
      volumes: ["./elasticsearch:/usr/share/elasticsearch/data"],
      // One node on an internal network only Mastodon's processes join.
      environment: {
        "discovery.type": "single-node",
        "xpack.security.enabled": "false",
        ES_JAVA_OPTS: "-Xms512m -Xmx512m",
      },
    },
    redis: {
      image: "redis:7.2-alpine",
      replicas: 1,
      networks: ["redis_network"],
      volumes: ["./redis:/data"],
    },
    db: {
      image: "postgres:14-alpine",
      replicas: 1,
      networks: ["db_network"],
      volumes: ["./postgres14:/var/lib/postgresql/data"],
      // POSTGRES_PASSWORD (the same value as DB_PASS) comes from the operator's env file.
      envFile: [MASTODON_ENV_FILE],
    },
    ambassador: {
      image: "ghcr.io/vulpineclub/ambassador:v1",
      replicas: 1,
      networks: ["external_network", "db_network"],
      envFile: [MASTODON_ENV_FILE],
      environment: { DB_HOST: "db", DB_PORT: "5432" },
    },
    dbbackup: {
      image: "postgres:14-alpine",
      command: "/backup/run-backups",
      replicas: 1,
      networks: ["db_network"],
      volumes: ["./backups:/backup"],
      envFile: [MASTODON_ENV_FILE],
      environment: { PGHOST: "db", PGPORT: "5432" },
    },
  };
  return { services, networks };
}

/** Linode names a range by its address without the prefix length, in canonical form. */
export function ipv6RangeId(range: string): string {
  const [addr] = range.split("/");
  return addr!
    .split(":")
    .map((g) => (g === "" ? g : g.replace(/^0+(?=.)/, "")))
    .join(":");
}

/**
 * vulpine.club (seed 000): one Linode 8GB ("smithwicks") running docker-compose, media on S3 +
 * CloudFront, Linode backups plus an hourly rsync elsewhere.
 */
export async function vulpineProgram(
  cfg: VulpineConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const s = cfg.spec;
  const ctx: SiteContext = { site: "vulpine", env: s.env };
  const root = new SiteRoot("vulpine", opts);
  const parent = { parent: root };

  // The host: static cloud-init that installs docker and a timer pulling the compose file.
  const sync = composeSyncHost({
    composeDir: COMPOSE_DIR,
    bucket: s.deployBucket.label,
    key: VULPINE_COMPOSE_KEY,
    s3Region: s3RegionOf(s.deployBucket.region),
    endpoint: "linode",
    // Debian 12 ships compose v1 only.
    compose: "v1",
    requiredEnvFile: MASTODON_ENV_FILE,
  });
  const userData = cloudInit({ site: "vulpine", family: "compose-host", ...sync });
  const host = new linode.Instance(
    s.instance.label,
    {
      label: s.instance.label,
      type: s.instance.type,
      region: s.region,
      image: s.instance.image,
      backupsEnabled: s.instance.backups,
      watchdogEnabled: true,
      metadatas: [{ userData: Buffer.from(userData).toString("base64") }],
      tags: siteTags(ctx, "allinone"),
    },
    // PostgreSQL, Redis and ES live on this host's disk. The live host is adopted; its first-boot
    // userData and image are history the API cannot read back, so they never force a replacement.
    stateful(
      root,
      s.instance.importId ? { import: s.instance.importId, ignoreChanges: ["metadatas", "image"] } : {},
    ),
  );
  // The seed's /64 is routed to the live host: adopted with it (its id is the range's address).
  new linode.Ipv6Range(
    "vulpine-ipv6",
    { prefixLength: 64, linodeId: numericId(host) },
    stateful(root, s.instance.importId ? { import: ipv6RangeId(s.ipv6.range) } : {}),
  );
  new linode.Firewall(
    "vulpine-edge",
    {
      label: "vulpine-edge",
      inboundPolicy: "DROP",
      inbounds: [
        {
          label: "https",
          action: "ACCEPT",
          protocol: "TCP",
          ports: "80,443",
          ipv4s: ["0.0.0.0/0"],
          ipv6s: ["::/0"],
        },
        {
          label: "admin-ssh",
          action: "ACCEPT",
          protocol: "TCP",
          ports: "22",
          ipv4s: s.adminCidrs.filter((c) => !c.includes(":")),
          ipv6s: s.adminCidrs.filter((c) => c.includes(":")),
        },
      ],
      // Federation needs outbound to anywhere.
      outboundPolicy: "ACCEPT",
      linodes: [numericId(host)],
      tags: siteTags(ctx, "firewall"),
    },
    parent,
  );

  // The media CDN is public: a per-IP rate limit and AWS's IP reputation list in front of it
  // (CloudFront web ACLs live in us-east-1). The limit is generous because other instances'
  // media proxies fetch in bursts; confirm it with the operators.
  const visibility = (metricName: string) => ({
    cloudwatchMetricsEnabled: true,
    metricName,
    sampledRequestsEnabled: true,
  });
  const mediaWaf = new aws.wafv2.WebAcl(
    "vulpine-media",
    {
      name: "vulpine-media",
      scope: "CLOUDFRONT",
      region: "us-east-1",
      defaultAction: { allow: {} },
      rules: [
        {
          name: "rate-limit-per-ip",
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: 20000, aggregateKeyType: "IP" } },
          visibilityConfig: visibility("vulpine-media-rate"),
        },
        {
          name: "aws-ip-reputation",
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: "AWS", name: "AWSManagedRulesAmazonIpReputationList" },
          },
          visibilityConfig: visibility("vulpine-media-reputation"),
        },
      ],
      visibilityConfig: visibility("vulpine-media"),
      tags: { ...siteLabels(ctx, "media"), "account-owner": s.media.accountOwner },
    },
    parent,
  );
  const media = new S3CdnOrigin(
    "vulpine-media",
    {
      ctx,
      bucketName: s.media.bucket,
      region: s.media.region,
      accountOwner: s.media.accountOwner,
      adopt: s.media.adopt,
      webAclId: mediaWaf.arn,
    },
    parent,
  );

  // The compose spec, published where the host's timer pulls it; the only thing a scale changes.
  // Protected like every bucket (policy pack: stateful-resources-protected).
  const deployBucket = new linode.ObjectStorageBucket(
    "vulpine-deploy",
    { label: s.deployBucket.label, region: s.deployBucket.region, acl: "private" },
    { ...parent, protect: true, retainOnDelete: true },
  );
  // Scales and networks for the outputs do not depend on the CDN hostname.
  const compose = vulpineCompose(cfg, { bucket: s.media.bucket, region: s.media.region, aliasHost: "" });
  new linode.ObjectStorageObject(
    "vulpine-compose",
    {
      bucket: deployBucket.label,
      region: s.deployBucket.region,
      key: VULPINE_COMPOSE_KEY,
      content: media.cdnDomain.apply((aliasHost) => {
        const c = vulpineCompose(cfg, { bucket: s.media.bucket, region: s.media.region, aliasHost });
        return renderCompose(c.services, c.networks);
      }),
      contentType: "application/yaml",
      acl: "private",
    },
    parent,
  );
  // The host's read-only key to the deploy bucket, and only to it. Exported as a secret for the
  // operator to install on the host once: in userData it would be plain text and replace the host.
  const pullKey = new linode.ObjectStorageKey(
    "vulpine-compose-pull",
    {
      label: "vulpine-compose-pull",
      bucketAccesses: [
        { bucketName: deployBucket.label, region: s.deployBucket.region, permissions: "read_only" },
      ],
    },
    parent,
  );

  return root.finish({
    site: cfg.site,
    configRevision: cfg.configRevision,
    env: s.env,
    region: s.region,
    ...sidekiqOutputs(s.sidekiq, { service: "sidekiq-scheduler" }),
    serviceScales: Object.fromEntries(Object.entries(compose.services).map(([n, svc]) => [n, svc.replicas])),
    serviceNetworks: Object.fromEntries(
      Object.entries(compose.services).map(([n, svc]) => [
        n,
        svc.networks.map((x) => (typeof x === "string" ? x : x.name)),
      ]),
    ),
    endpoints: {
      host: s.instance.label,
      nginxIpv6: s.ipv6.nginxAddress,
      ipv6Range: s.ipv6.range,
      mediaCdn: media.cdnDomain,
      mediaBucket: media.bucketName,
    },
    externals: s.externals,
    /** `ACCESS_KEY=` / `SECRET_KEY=` lines for /etc/stackyard/deploy-key.env on the host. */
    deployKey: pulumi.secret(
      pulumi.interpolate`ACCESS_KEY=${pullKey.accessKey}\nSECRET_KEY=${pullKey.secretKey}\n`,
    ),
  });
}
