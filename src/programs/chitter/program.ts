import * as aws from "@pulumi/aws";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { cloudInit } from "../cloud-init";
import { renderCompose, sidekiqServices, type ComposeService } from "../compose";
import { HcloudPrivateNetwork } from "../components/hcloud-private-network";
import { S3PrivateBucket } from "../components/s3-private-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import type { ChitterConfig } from "./spec";
import { numericId, SiteRoot, siteLabels, stateful, type SiteContext } from "../site-context";

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** Data host: PostgreSQL and Redis listen on the private address only and trust only the private range. */
function dataHostUserData(privateIp: string, range: string): string {
  return cloudInit({
    site: "chitter",
    family: "data",
    files: [
      {
        path: "/etc/postgresql/conf.d/stackyard.conf",
        content: `listen_addresses = 'localhost,${privateIp}'`,
      },
      { path: "/etc/postgresql/pg_hba.d/stackyard.conf", content: `host all all ${range} scram-sha-256` },
      {
        path: "/etc/redis/conf.d/stackyard.conf",
        content: `bind 127.0.0.1 ${privateIp}\nprotected-mode yes`,
      },
    ],
    runcmd: ["apt-get install -y postgresql redis-server nginx minio || true"],
  });
}

function appHostUserData(bucket: string, key: string): string {
  return cloudInit({
    site: "chitter",
    family: "app",
    files: [
      {
        path: "/etc/systemd/system/stackyard-compose-sync.service",
        content: `[Service]\nType=oneshot\nWorkingDirectory=/opt/mastodon\nExecStart=/opt/stackyard/pull-compose s3://${bucket}/${key}\nExecStartPost=/usr/bin/docker compose up -d --remove-orphans`,
      },
    ],
    runcmd: ["systemctl enable --now stackyard-compose-sync.timer"],
  });
}

export function chitterCompose(cfg: ChitterConfig): Record<string, ComposeService> {
  const s = cfg.spec;
  const img = s.compose.mastodonImage;
  const data = s.servers[s.dataHost]!;
  const env = { DB_HOST: data.privateIp, REDIS_HOST: data.privateIp };
  const withEnv = (svcs: Record<string, ComposeService>) =>
    Object.fromEntries(
      Object.entries(svcs).map(([n, v]) => [n, { ...v, environment: { ...env, ...v.environment } }]),
    );
  return {
    caddy: {
      image: "caddy:2.8",
      replicas: 1,
      networks: ["default"],
      ports: ["80:80", "443:443"],
      volumes: ["./Caddyfile:/etc/caddy/Caddyfile:ro"],
    },
    ...withEnv({
      web: {
        image: img,
        command: "bundle exec puma -C config/puma.rb",
        replicas: s.compose.scale.web,
        networks: ["default"],
      },
      streaming: {
        image: img.replace("/mastodon:", "/mastodon-streaming:"),
        replicas: s.compose.scale.streaming,
        networks: ["default"],
      },
      ...sidekiqServices(img, s.sidekiq, ["default"]),
    }),
    minio: {
      image: "minio/minio:RELEASE.2024-10-13T13-34-11Z",
      command: "server /data",
      replicas: 1,
      networks: ["default"],
      volumes: ["/srv/minio:/data"],
    },
  };
}

/**
 * chitter.xyz (seed 001): tempo (PostgreSQL, Redis, media) and parasect (caddy, app, sidekiq) on
 * a private network; media origins and the historical media hostnames are kept in outputs and
 * externals (BunnyCDN, B2, netlify, updown.io have no provider).
 */
export async function chitterProgram(
  cfg: ChitterConfig,
  opts?: pulumi.ComponentResourceOptions,
): Promise<Record<string, unknown>> {
  const s = cfg.spec;
  const ctx: SiteContext = { site: "chitter", env: s.env };
  const root = new SiteRoot("chitter", opts);
  const parent = { parent: root };

  const net = new HcloudPrivateNetwork(
    "chitter",
    {
      ctx,
      ipRange: s.network.ipRange,
      subnet: s.network.subnet,
      networkZone: s.networkZone,
      publicRules: [
        { protocol: "tcp", port: "80", sourceIps: ANYWHERE, description: "caddy / media origin (http)" },
        { protocol: "tcp", port: "443", sourceIps: ANYWHERE, description: "caddy / media origin (https)" },
        { protocol: "tcp", port: "22", sourceIps: s.adminCidrs, description: "admin ssh" },
        { protocol: "icmp", sourceIps: ANYWHERE, description: "ping" },
      ],
    },
    parent,
  );

  const composeKey = `${s.appHost}/docker-compose.yml`;
  const servers: Record<string, hcloud.Server> = {};
  for (const [name, sv] of Object.entries(s.servers)) {
    const userData =
      name === s.dataHost
        ? dataHostUserData(sv.privateIp, s.network.ipRange)
        : appHostUserData(s.aws.deployBucket, composeKey);
    servers[name] = new hcloud.Server(
      name,
      {
        name,
        serverType: sv.serverType,
        image: sv.image,
        location: s.location,
        backups: true,
        deleteProtection: true,
        rebuildProtection: true,
        labels: siteLabels(ctx, sv.role),
        networks: [{ networkId: net.networkId, ip: sv.privateIp }],
        userData,
      },
      // Both hold media (and tempo the databases): protected.
      stateful(root, { dependsOn: [net.subnet] }),
    );
    for (const [vol, size] of Object.entries(sv.volumes)) {
      new hcloud.Volume(
        `${name}-${vol}`,
        {
          name: `${name}-${vol}`,
          size,
          serverId: numericId(servers[name]!),
          format: "ext4",
          automount: true,
          deleteProtection: true,
          labels: siteLabels(ctx, vol),
        },
        stateful(root),
      );
    }
  }

  // The compose spec for the app host, pulled by its timer: the only thing a sidekiq scale changes.
  const deploy = new S3PrivateBucket(
    "chitter-deploy",
    { ctx, role: "deploy", bucketName: s.aws.deployBucket, region: s.aws.region },
    parent,
  );
  new aws.s3.BucketObjectv2(
    "chitter-compose",
    {
      bucket: deploy.bucket.id,
      region: s.aws.region,
      key: composeKey,
      content: renderCompose(chitterCompose(cfg), { default: { internal: false } }),
      contentType: "application/yaml",
      tags: siteLabels(ctx, "deploy"),
    },
    parent,
  );

  // The status page's outage notes: updates.html, polled by status.chitter.xyz (netlify), edited by hand.
  const outages = new aws.s3.Bucket(
    "chitter-outages",
    { bucket: s.aws.outagesBucket, region: s.aws.region, tags: siteLabels(ctx, "status") },
    stateful(root),
  );
  const outagesAccess = new aws.s3.BucketPublicAccessBlock(
    "chitter-outages",
    {
      bucket: outages.id,
      region: s.aws.region,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: false,
      restrictPublicBuckets: false,
    },
    parent,
  );
  new aws.s3.BucketCorsConfiguration(
    "chitter-outages",
    {
      bucket: outages.id,
      region: s.aws.region,
      corsRules: [
        { allowedMethods: ["GET"], allowedOrigins: ["https://status.chitter.xyz"], maxAgeSeconds: 10 },
      ],
    },
    parent,
  );
  new aws.s3.BucketPolicy(
    "chitter-outages",
    {
      bucket: outages.id,
      region: s.aws.region,
      policy: outages.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "PublicReadUpdates",
              Effect: "Allow",
              Principal: "*",
              Action: "s3:GetObject",
              Resource: `${arn}/updates.html`,
            },
          ],
        }),
      ),
    },
    { parent: root, dependsOn: [outagesAccess] },
  );

  const compose = chitterCompose(cfg);
  return root.finish({
    site: cfg.site,
    configRevision: cfg.configRevision,
    env: s.env,
    location: s.location,
    ...sidekiqOutputs(s.sidekiq, { service: "sidekiq-scheduler", host: s.appHost }),
    serviceScales: Object.fromEntries(Object.entries(compose).map(([n, svc]) => [n, svc.replicas])),
    privateNetwork: s.network.ipRange,
    endpoints: {
      dataHost: {
        name: s.dataHost,
        privateIp: s.servers[s.dataHost]!.privateIp,
        postgres: `${s.servers[s.dataHost]!.privateIp}:5432`,
        redis: `${s.servers[s.dataHost]!.privateIp}:6379`,
      },
      appHost: { name: s.appHost, publicIpv4: servers[s.appHost]!.ipv4Address },
      mediaCanonical: `https://${s.media.canonicalHost}/`,
      statusPage: "https://status.chitter.xyz/",
    },
    mediaOrigins: s.media.origins,
    historicalMediaHostnames: s.media.historicalHostnames,
    externals: s.externals,
  });
}
