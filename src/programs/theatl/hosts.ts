import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { cloudInit } from "../cloud-init";
import {
  DEPLOY_SCRIPT,
  DEPLOY_SERVICE,
  DEPLOY_TIMER,
  DOCKER_AWSLOGS_DROPIN,
  PG_DUMP_SCRIPT,
  PG_DUMP_SERVICE,
  PG_ROLE_ENV,
  SIDEKIQ_ROLE_ENV,
  pgDumpTimer,
} from "./host-scripts";
import { fileDigest, haproxyCfg, nginxConf } from "./edge-config";
import type { TheatlSpec } from "./spec";

/** Private names the app connects to; records under `int.` follow the knobs, the names never change. */
export const THEATL_DB_PRIMARY = "db-primary.int";
export const THEATL_DB_REPLICA = "db-replica.int";
export const THEATL_REDIS = "redis.int";

export const THEATL_FAMILIES = ["haproxy", "nginx", "web", "sidekiq", "postgres", "redis"] as const;
export type TheatlFamily = (typeof THEATL_FAMILIES)[number];

/** The tag on the one database host that runs pg_dump. */
export const PG_DUMP_TAG = "backup:pgdump";
export const DB_NAME = "mastodon_production";
export const DB_USER = "mastodon";
export const REPLICATION_USER = "replicator";
export const LOG_PREFIX = "/theatl/mastodon";

/** Shared secrets of the hosts (see secrets.ts). */
export interface HostSecrets {
  redisPassword: string;
  dbPassword: string;
  replicationPassword: string;
  secretKeyBase: string;
  otpSecret: string;
  arPrimaryKey: string;
  arDeterministicKey: string;
  arKeyDerivationSalt: string;
}

/** A Spaces/S3 access key pair. */
export interface KeyPair {
  id: string;
  secret: string;
}

/**
 * The compose service → CloudWatch log group table: the one source for both the `awslogs-group` a
 * container ships to and the log groups the program creates (names must be in cloudwatch.services).
 */
const LOG_GROUP_OF: Record<string, string> = {
  haproxy: "haproxy",
  nginx: "nginx",
  web: "web",
  streaming: "streaming",
  sidekiq: "sidekiq",
  db: "postgres",
  redis: "redis",
};

export function logGroupName(service: string): string {
  return `${LOG_PREFIX}/${service}`;
}

type Service = Record<string, unknown>;

function composeServices(family: TheatlFamily, s: TheatlSpec): Record<string, Service> {
  const mastodonEnv = {
    LOCAL_DOMAIN: s.domain,
    DB_HOST: `${THEATL_DB_PRIMARY}.${s.domain}`,
    REPLICA_DB_HOST: `${THEATL_DB_REPLICA}.${s.domain}`,
    DB_NAME,
    DB_USER,
    DB_PASS: "${DB_PASS}",
    REDIS_HOST: `${THEATL_REDIS}.${s.domain}`,
    REDIS_PASSWORD: "${REDIS_PASSWORD}",
    SECRET_KEY_BASE: "${SECRET_KEY_BASE}",
    OTP_SECRET: "${OTP_SECRET}",
    ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: "${ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY}",
    ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: "${ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY}",
    ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: "${ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT}",
    // Media goes to the Spaces bucket and is served from the CDN; objects are written public-read,
    // the bucket itself lists nothing.
    S3_ENABLED: "true",
    S3_BUCKET: s.spaces.mediaBucket,
    S3_REGION: s.spaces.region,
    S3_ENDPOINT: `https://${s.spaces.region}.digitaloceanspaces.com`,
    S3_PERMISSION: "public-read",
    S3_ALIAS_HOST: "${S3_ALIAS_HOST}",
    AWS_ACCESS_KEY_ID: "${MEDIA_ACCESS_KEY_ID}",
    AWS_SECRET_ACCESS_KEY: "${MEDIA_SECRET_ACCESS_KEY}",
  };
  const streamingImage = s.mastodonImage.replace("/mastodon:", "/mastodon-streaming:");
  const byFamily: Record<TheatlFamily, Record<string, Service>> = {
    // A changed config file changes its digest label, so compose recreates the container.
    haproxy: {
      haproxy: {
        image: "haproxy:2.8",
        ports: ["80:80", "443:443"],
        volumes: ["./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"],
        labels: { "social.theatl.config-digest": fileDigest(haproxyCfg(s)) },
      },
    },
    nginx: {
      nginx: {
        image: "nginx:1.26",
        ports: ["80:80", "443:443"],
        volumes: [
          "./mastodon.conf:/etc/nginx/conf.d/default.conf:ro",
          "/etc/letsencrypt:/etc/letsencrypt:ro",
          "/var/www/certbot:/var/www/certbot:ro",
        ],
        labels: { "social.theatl.config-digest": fileDigest(nginxConf(s)) },
      },
    },
    web: {
      web: {
        image: s.mastodonImage,
        command: "bundle exec puma -C config/puma.rb",
        ports: ["3000:3000"],
        environment: mastodonEnv,
      },
      streaming: { image: streamingImage, ports: ["4000:4000"], environment: mastodonEnv },
    },
    // Threads and queues come from the droplet's tags (role.env, written by the role hook).
    sidekiq: {
      sidekiq: {
        image: s.mastodonImage,
        command: "bundle exec sidekiq -c ${SIDEKIQ_THREADS} ${SIDEKIQ_QUEUES}",
        environment: mastodonEnv,
      },
    },
    postgres: {
      db: {
        image: `postgres:${s.postgres.version}`,
        network_mode: "host",
        shm_size: "256mb",
        command: [
          "postgres",
          "-c",
          "config_file=/etc/postgresql/postgresql.conf",
          "-c",
          "hba_file=/etc/postgresql/pg_hba.conf",
        ],
        environment: { POSTGRES_USER: DB_USER, POSTGRES_DB: DB_NAME, POSTGRES_PASSWORD: "${DB_PASS}" },
        volumes: [
          "/mnt/data/postgres:/var/lib/postgresql/data",
          "./postgresql.conf:/etc/postgresql/postgresql.conf:ro",
          "./pg_hba.conf:/etc/postgresql/pg_hba.conf:ro",
          "./replication.sql:/docker-entrypoint-initdb.d/10-replication.sql:ro",
        ],
      },
    },
    redis: {
      redis: {
        image: "redis:7.2",
        command: "redis-server /usr/local/etc/redis/redis.conf",
        ports: ["6379:6379"],
        volumes: ["./redis.conf:/usr/local/etc/redis/redis.conf:ro"],
      },
    },
  };
  const services = byFamily[family];
  for (const [name, svc] of Object.entries(services)) {
    const group = LOG_GROUP_OF[name];
    if (group === undefined || !s.cloudwatch.services.includes(group))
      throw new Error(
        `theatl: compose service ${name} logs to ${LOG_PREFIX}/${group}, which is not in cloudwatch.services`,
      );
    svc.restart = "always";
    svc.logging = {
      driver: "awslogs",
      options: { "awslogs-region": s.cloudwatch.region, "awslogs-group": logGroupName(group) },
    };
  }
  return services;
}

/** The compose file of a role family: images and settings only, secrets by `${VAR}` from .env. */
export function composeFor(family: TheatlFamily, s: TheatlSpec): string {
  return stringify({ services: composeServices(family, s) }, { lineWidth: 0 });
}

const envFile = (vars: Record<string, string>) =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n") + "\n";

/** PostgreSQL settings, the same on every node: a node is a standby only while standby.signal exists. */
export function postgresqlConf(s: TheatlSpec, secrets: Pick<HostSecrets, "replicationPassword">): string {
  const conninfo = [
    `host=${THEATL_DB_PRIMARY}.${s.domain}`,
    "port=5432",
    `user=${REPLICATION_USER}`,
    `password=${secrets.replicationPassword}`,
  ].join(" ");
  return [
    "listen_addresses = '*'",
    "port = 5432",
    "max_connections = 250",
    "wal_level = replica",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "wal_keep_size = '1GB'",
    "hot_standby = on",
    // A pg_dump on the standby is not cancelled by the primary's vacuum.
    "hot_standby_feedback = on",
    `primary_conninfo = '${conninfo.replace(/'/g, "''")}'`,
    "",
  ].join("\n");
}

/** Replication only for the replication role, and the app only, both from the VPC with passwords. */
export function pgHba(s: TheatlSpec): string {
  return [
    "local   all          all                          trust",
    "host    all          all          127.0.0.1/32    scram-sha-256",
    `host    replication  ${REPLICATION_USER}   ${s.vpc.ipRange}   scram-sha-256`,
    `host    ${DB_NAME}  ${DB_USER}  ${s.vpc.ipRange}   scram-sha-256`,
    "",
  ].join("\n");
}

/** Run once by the image's entrypoint when the primary's data directory is initialised. */
export function replicationSql(secrets: Pick<HostSecrets, "replicationPassword">): string {
  const pw = secrets.replicationPassword.replace(/'/g, "''");
  return `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '${pw}';\n`;
}

export function redisConf(secrets: Pick<HostSecrets, "redisPassword">): string {
  return [
    // Listens on the private network; the firewall admits only role:web and role:sidekiq.
    "bind 0.0.0.0",
    "protected-mode yes",
    "port 6379",
    `requirepass ${secrets.redisPassword}`,
    "",
  ].join("\n");
}

export interface PublishedInputs {
  secrets: HostSecrets;
  media: KeyPair;
  cdnEndpoint: string;
}

/** Files a family's hosts pull from the deploy bucket (key relative to `<family>/`). */
export function publishedFiles(
  family: TheatlFamily,
  s: TheatlSpec,
  p: PublishedInputs,
): Record<string, string> {
  const files: Record<string, string> = { "docker-compose.yml": composeFor(family, s) };
  const app = {
    DB_PASS: p.secrets.dbPassword,
    REDIS_PASSWORD: p.secrets.redisPassword,
    SECRET_KEY_BASE: p.secrets.secretKeyBase,
    OTP_SECRET: p.secrets.otpSecret,
    ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: p.secrets.arPrimaryKey,
    ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: p.secrets.arDeterministicKey,
    ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: p.secrets.arKeyDerivationSalt,
    S3_ALIAS_HOST: p.cdnEndpoint,
    MEDIA_ACCESS_KEY_ID: p.media.id,
    MEDIA_SECRET_ACCESS_KEY: p.media.secret,
  };
  if (family === "web" || family === "sidekiq") files["host.env"] = envFile(app);
  else if (family === "postgres") {
    files["host.env"] = envFile({
      DB_PASS: p.secrets.dbPassword,
      DB_USER,
      DB_NAME,
      POSTGRES_IMAGE: `postgres:${s.postgres.version}`,
      PRIMARY_HOST: `${THEATL_DB_PRIMARY}.${s.domain}`,
      REPLICATION_USER,
      REPLICATION_PASSWORD: p.secrets.replicationPassword,
      DUMPS_BUCKET: s.postgres.dumps.bucket,
    });
    files["postgresql.conf"] = postgresqlConf(s, p.secrets);
    files["pg_hba.conf"] = pgHba(s);
    files["replication.sql"] = replicationSql(p.secrets);
    files["units/pg-dump.timer"] = pgDumpTimer(s.postgres.dumps.everyMinutes);
  } else if (family === "redis") {
    files["host.env"] = "";
    files["redis.conf"] = redisConf(p.secrets);
  } else if (family === "nginx") {
    files["host.env"] = "";
    files["mastodon.conf"] = nginxConf(s);
  } else if (family === "haproxy") {
    files["host.env"] = "";
    files["haproxy.cfg"] = haproxyCfg(s);
  } else files["host.env"] = "";
  return files;
}

/** The keys a family publishes (they depend on the family only, never on a secret). */
export function publishedFileNames(family: TheatlFamily, s: TheatlSpec): string[] {
  const blank: HostSecrets = {
    redisPassword: "",
    dbPassword: "",
    replicationPassword: "",
    secretKeyBase: "",
    otpSecret: "",
    arPrimaryKey: "",
    arDeterministicKey: "",
    arKeyDerivationSalt: "",
  };
  return Object.keys(
    publishedFiles(family, s, { secrets: blank, media: { id: "", secret: "" }, cdnEndpoint: "" }),
  );
}

/** What a family's hosts boot with: credentials and the pull machinery, nothing a knob changes. */
export interface BootInputs {
  deployBucket: string;
  spacesRegion: string;
  deploy: KeyPair;
  awslogs: KeyPair;
  /** Only the postgres family writes dumps. */
  dumps?: KeyPair;
}

function s3cfg(key: KeyPair, region: string): string {
  return [
    "[default]",
    `access_key = ${key.id}`,
    `secret_key = ${key.secret}`,
    `host_base = ${region}.digitaloceanspaces.com`,
    `host_bucket = %(bucket)s.${region}.digitaloceanspaces.com`,
    "use_https = True",
  ].join("\n");
}

/** Static per role family: changing it replaces a droplet, so it holds no knob and no image tag. */
export function userDataFor(family: TheatlFamily, b: BootInputs): string {
  const hook = family === "sidekiq" ? SIDEKIQ_ROLE_ENV : family === "postgres" ? PG_ROLE_ENV : undefined;
  const files = [
    { path: "/etc/stackyard/deploy.conf", content: `DEPLOY_BUCKET=${b.deployBucket}\nFAMILY=${family}` },
    { path: "/etc/stackyard/deploy.s3cfg", content: s3cfg(b.deploy, b.spacesRegion), permissions: "0600" },
    {
      path: "/etc/stackyard/awslogs.env",
      content: `AWS_ACCESS_KEY_ID=${b.awslogs.id}\nAWS_SECRET_ACCESS_KEY=${b.awslogs.secret}`,
      permissions: "0600",
    },
    { path: "/etc/systemd/system/docker.service.d/awslogs.conf", content: DOCKER_AWSLOGS_DROPIN },
    { path: "/opt/stackyard/deploy", content: DEPLOY_SCRIPT, permissions: "0755" },
    { path: "/etc/systemd/system/stackyard-deploy.service", content: DEPLOY_SERVICE },
    { path: "/etc/systemd/system/stackyard-deploy.timer", content: DEPLOY_TIMER },
    ...(hook ? [{ path: "/opt/stackyard/role-env", content: hook, permissions: "0755" }] : []),
    ...(family === "postgres" && b.dumps
      ? [
          {
            path: "/etc/stackyard/dumps.s3cfg",
            content: s3cfg(b.dumps, b.spacesRegion),
            permissions: "0600",
          },
          { path: "/opt/stackyard/pg-dump", content: PG_DUMP_SCRIPT, permissions: "0755" },
          { path: "/etc/systemd/system/pg-dump.service", content: PG_DUMP_SERVICE },
        ]
      : []),
  ];
  return cloudInit({
    site: "theatl",
    family,
    packages: ["s3cmd"],
    files: files.map((f) => ({ ...f, content: f.content.replace(/\n$/, "") })),
    runcmd: [
      "systemctl daemon-reload && systemctl restart docker",
      "systemctl enable --now stackyard-deploy.timer && systemctl start stackyard-deploy.service",
    ],
  });
}

/** userData as an Output: secret, because it carries the hosts' credentials. */
export function userDataOutput(
  family: TheatlFamily,
  b: Omit<BootInputs, "deploy" | "awslogs" | "dumps"> & {
    deploy: pulumi.Output<KeyPair>;
    awslogs: pulumi.Output<KeyPair>;
    dumps?: pulumi.Output<KeyPair>;
  },
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([b.deploy, b.awslogs, b.dumps ?? pulumi.output(undefined)])
      .apply(([deploy, awslogs, dumps]) => userDataFor(family, { ...b, deploy, awslogs, dumps })),
  );
}
