import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import { cloudInit } from "../cloud-init";
import { renderCompose, sidekiqServices, type ComposeNetwork, type ComposeService } from "../compose";
import { S3CdnOrigin } from "../components/s3-cdn-origin";
import { sidekiqOutputs } from "../config/sidekiq";
import type { VulpineConfig } from "./spec";
import { numericId, SiteRoot, siteTags, stateful, type SiteContext } from "../site-context";

export const VULPINE_COMPOSE_KEY = "smithwicks/docker-compose.yml";

/**
 * The seed's per-service networks: each container joins only the networks it needs, and only
 * external_network reaches the Internet.
 */
export function vulpineCompose(cfg: VulpineConfig): {
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
  const services: Record<string, ComposeService> = {
    nginx: {
      image: "nginx:1.26",
      replicas: 1,
      networks: ["external_network", "internal_network"],
      ports: ["80:80", "443:443"],
      volumes: ["/etc/nginx:/etc/nginx:ro"],
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
    },
    streaming: {
      image: img.replace("/mastodon:", "/mastodon-streaming:"),
      replicas: s.compose.scale.streaming,
      networks: [
        "external_network",
        "db_network",
        "redis_network",
        { name: "internal_network", aliases: ["fe_streaming"] },
      ],
    },
    ...sidekiqServices(img, s.sidekiq, ["external_network", "db_network", "es_network", "redis_network"]),
    es: {
      image: "docker.elastic.co/elasticsearch/elasticsearch:7.17.25",
      replicas: 1,
      networks: ["es_network"],
      volumes: ["./elasticsearch:/usr/share/elasticsearch/data"],
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
    },
    ambassador: {
      image: "ghcr.io/vulpineclub/ambassador:v1",
      replicas: 1,
      networks: ["external_network", "db_network"],
    },
    dbbackup: {
      image: "postgres:14-alpine",
      command: "/backup/run-backups",
      replicas: 1,
      networks: ["db_network"],
      volumes: ["./backups:/backup"],
    },
  };
  return { services, networks };
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
  const userData = cloudInit({
    site: "vulpine",
    family: "compose-host",
    files: [
      {
        path: "/etc/systemd/system/stackyard-compose-sync.service",
        content: `[Service]\nType=oneshot\nWorkingDirectory=/opt/mastodon\nExecStart=/opt/stackyard/pull-compose ${s.deployBucket.label} ${VULPINE_COMPOSE_KEY}\nExecStartPost=/usr/bin/docker compose up -d --remove-orphans`,
      },
    ],
    runcmd: ["systemctl enable --now stackyard-compose-sync.timer"],
  });
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
    // PostgreSQL, Redis and ES live on this host's disk.
    stateful(root),
  );
  new linode.Ipv6Range("vulpine-ipv6", { prefixLength: 64, linodeId: numericId(host) }, stateful(root));
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

  // The compose spec, published where the host's timer pulls it; the only thing a scale changes.
  const compose = vulpineCompose(cfg);
  // Protected like every bucket (policy pack: stateful-resources-protected).
  const deployBucket = new linode.ObjectStorageBucket(
    "vulpine-deploy",
    { label: s.deployBucket.label, region: s.deployBucket.region, acl: "private" },
    { ...parent, protect: true, retainOnDelete: true },
  );
  new linode.ObjectStorageObject(
    "vulpine-compose",
    {
      bucket: deployBucket.label,
      region: s.deployBucket.region,
      key: VULPINE_COMPOSE_KEY,
      content: renderCompose(compose.services, compose.networks),
      contentType: "application/yaml",
      acl: "private",
    },
    parent,
  );

  const media = new S3CdnOrigin(
    "vulpine-media",
    { ctx, bucketName: s.media.bucket, region: s.media.region, accountOwner: s.media.accountOwner },
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
  });
}
