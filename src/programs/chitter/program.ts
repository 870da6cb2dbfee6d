import * as aws from "@pulumi/aws";
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import { cloudInit } from "../cloud-init";
import { renderCompose, sidekiqServices, type ComposeService } from "../compose";
import { HcloudPrivateNetwork } from "../components/hcloud-private-network";
import { S3PrivateBucket } from "../components/s3-private-bucket";
import { sidekiqOutputs } from "../config/sidekiq";
import { composeSyncHost } from "../compose-sync";
import { MEDIA_NGINX_CONF, MINIO_SECRETS_DIR, mediaNginxConf, postgresFiles, redisFiles } from "./hosts";
import type { ChitterConfig } from "./spec";
import { numericId, SiteRoot, siteLabels, stateful, type SiteContext } from "../site-context";

const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** The compose project on every server (minio; the app on `appHost`). */
const COMPOSE_DIR = "/opt/mastodon";
const MINIO_BUCKET = "chitter-media";
const composeKey = (server: string) => `${server}/docker-compose.yml`;

/**
 * A server's first-boot files: every server follows its own published compose file; the data host
 * also runs PostgreSQL, Redis and the media nginx from Debian's packages (minio, which Debian does
 * not ship, runs as a container in the compose file).
 */
function serverUserData(cfg: ChitterConfig, name: string): string {
  const s = cfg.spec;
  const sv = s.servers[name]!;
  const sync = composeSyncHost({
    composeDir: COMPOSE_DIR,
    bucket: s.aws.deployBucket,
    key: composeKey(name),
    s3Region: s.aws.region,
    endpoint: "aws",
    // Debian 12 ships compose v1 only.
    compose: "v1",
  });
  if (name !== s.dataHost) return cloudInit({ site: "chitter", family: "compose", ...sync });
  return cloudInit({
    site: "chitter",
    family: "data",
    composePackage: sync.composePackage,
    packages: ["postgresql", "redis-server", "nginx"],
    files: [
      ...sync.files,
      ...postgresFiles(sv.privateIp, s.network.ipRange),
      ...redisFiles(sv.privateIp),
      { path: MEDIA_NGINX_CONF, content: mediaNginxConf(s, `${name}-minio`, MINIO_BUCKET), defer: true },
    ],
    // The deferred files land after the packages started with Debian's defaults: restart to read them.
    runcmd: [...sync.runcmd, "systemctl restart postgresql redis-server nginx"],
  });
}

/** What runs in docker on `server`: its minio (both servers host media), and the app on the app host. */
export function chitterCompose(
  cfg: ChitterConfig,
  server: string = cfg.spec.appHost,
): Record<string, ComposeService> {
  const s = cfg.spec;
  const img = s.compose.mastodonImage;
  const data = s.servers[s.dataHost]!;
  // REDIS_PASSWORD, DB_PASS and Mastodon's other secrets are in the operator-held env file.
  const env = { DB_HOST: data.privateIp, REDIS_HOST: data.privateIp };
  const withEnv = (svcs: Record<string, ComposeService>) =>
    Object.fromEntries(
      Object.entries(svcs).map(([n, v]) => [
        n,
        { ...v, envFile: [".env.production"], environment: { ...env, ...v.environment } },
      ]),
    );
  const minio: Record<string, ComposeService> = {
    minio: {
      image: "minio/minio:RELEASE.2024-10-13T13-34-11Z",
      command: "server /data",
      replicas: 1,
      networks: ["default"],
      // Only the host's nginx (or caddy) reaches it.
      ports: ["127.0.0.1:9000:9000"],
      volumes: ["/srv/minio:/data", `${MINIO_SECRETS_DIR}:/run/secrets:ro`],
      environment: { MINIO_ROOT_USER_FILE: "root_user", MINIO_ROOT_PASSWORD_FILE: "root_password" },
    },
  };
  if (server !== s.appHost) return minio;
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
    ...minio,
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

  const servers: Record<string, hcloud.Server> = {};
  for (const [name, sv] of Object.entries(s.servers)) {
    const userData = serverUserData(cfg, name);
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
  for (const name of Object.keys(s.servers)) {
    new aws.s3.BucketObjectv2(
      `${name}-compose`,
      {
        bucket: deploy.bucket.id,
        region: s.aws.region,
        key: composeKey(name),
        content: renderCompose(chitterCompose(cfg, name), { default: { internal: false } }),
        contentType: "application/yaml",
        tags: siteLabels(ctx, "deploy"),
      },
      parent,
    );
  }
  // The servers' read-only key to their compose files, exported as a secret for the operator to
  // install on each (in userData it would be plain text and replace the server).
  const puller = new aws.iam.User(
    "chitter-compose-pull",
    { name: "chitter-compose-pull", tags: siteLabels(ctx, "deploy") },
    parent,
  );
  new aws.iam.UserPolicy(
    "chitter-compose-pull",
    {
      user: puller.name,
      name: "read-compose-files",
      policy: deploy.bucket.arn.apply((arn) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: `${arn}/*/docker-compose.yml` }],
        }),
      ),
    },
    parent,
  );
  const pullKey = new aws.iam.AccessKey("chitter-compose-pull", { user: puller.name }, parent);

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
    /** `ACCESS_KEY=` / `SECRET_KEY=` lines for /etc/stackyard/deploy-key.env on each server. */
    deployKey: pulumi.secret(pulumi.interpolate`ACCESS_KEY=${pullKey.id}\nSECRET_KEY=${pullKey.secret}\n`),
  });
}
