import type { ChitterSpec } from "./spec";

/**
 * What chitter's servers are given at first boot. The text depends on the server's name and on
 * which server is the data host, never on `appHost`: moving the app between servers changes only
 * the compose files the program publishes, so it never replaces a server.
 */

/** Debian 12's PostgreSQL, whose cluster `main` reads `conf.d/` in its config folder. */
export const PG_MAJOR = 15;
export const PG_CONF_DIR = `/etc/postgresql/${PG_MAJOR}/main`;
/** Operator-held: `requirepass <secret>` (mode 0640, group redis); the same value is REDIS_PASSWORD in the app's env file. */
export const REDIS_AUTH_FILE = "/etc/stackyard/redis-auth.conf";
/** Operator-held minio root credentials, read by the container as docker secrets. */
export const MINIO_SECRETS_DIR = "/etc/stackyard/minio";
export const MEDIA_NGINX_CONF = "/etc/nginx/conf.d/stackyard-media.conf";
/** Hetzner's recursive resolvers: nginx resolves the remote origins at request time, not at start. */
const RESOLVERS = "185.12.64.1 185.12.64.2";

type HostFile = { path: string; content: string; permissions?: string; defer?: boolean; append?: boolean };

/** PostgreSQL: listens on the private address too, and trusts only the private range (besides local peers). */
export function postgresFiles(privateIp: string, range: string): HostFile[] {
  return [
    {
      path: `${PG_CONF_DIR}/conf.d/stackyard.conf`,
      content: [
        "# stackyard: reachable from the private network only (pg_hba below)",
        `listen_addresses = 'localhost,${privateIp}'`,
        `hba_file = '${PG_CONF_DIR}/stackyard_hba.conf'`,
        "",
      ].join("\n"),
      defer: true,
    },
    {
      path: `${PG_CONF_DIR}/stackyard_hba.conf`,
      content: [
        "# TYPE DATABASE USER ADDRESS METHOD",
        "local all postgres peer",
        "local all all peer",
        "host all all 127.0.0.1/32 scram-sha-256",
        "host all all ::1/128 scram-sha-256",
        `host all all ${range} scram-sha-256`,
        "",
      ].join("\n"),
      permissions: "0640",
      defer: true,
    },
  ];
}

/** The Redis settings Debian's redis.conf includes: the private address, protected mode, a password. */
export function redisConf(privateIp: string): string {
  return [
    "# stackyard: clients on the private network authenticate; nothing listens publicly",
    `bind 127.0.0.1 ${privateIp} -::1`,
    "protected-mode yes",
    `include ${REDIS_AUTH_FILE}`,
    "",
  ].join("\n");
}

export function redisFiles(privateIp: string): HostFile[] {
  return [
    { path: "/etc/redis/stackyard.conf", content: redisConf(privateIp), defer: true },
    // Debian reads only /etc/redis/redis.conf; a later `include` wins over its defaults.
    {
      path: "/etc/redis/redis.conf",
      content: "include /etc/redis/stackyard.conf\n",
      defer: true,
      append: true,
    },
  ];
}

/** Host name of a URL (`https://a.b/c/` → `a.b`) and its path without the trailing slash. */
function split(url: string): { host: string; path: string } {
  const u = new URL(url);
  return { host: u.host, path: u.pathname.replace(/\/$/, "") };
}

/**
 * The seed's media proxy on the data host: tries the origins newest first (tempo's own minio, then
 * parasect's minio, then B2), caching what the remote ones answer, and answers the old media
 * domain with a 301 to the canonical one. Certificates are certbot's, at the paths it keeps.
 */
export function mediaNginxConf(spec: ChitterSpec, localOrigin: string, minioBucket: string): string {
  const origins = spec.media.origins;
  const own = origins.find((o) => o.name === localOrigin);
  const remotes = origins.filter((o) => o.name !== localOrigin);
  const ownHost = own ? split(own.url).host : `${spec.dataHost}.orig.${spec.media.canonicalHost}`;
  const old = spec.media.historicalHostnames
    .map((h) => ({ ...h, ...split(h.url) }))
    .filter((h) => /301/.test(h.behaviour));
  const tls = (host: string) => [
    `  ssl_certificate /etc/letsencrypt/live/${host}/fullchain.pem;`,
    `  ssl_certificate_key /etc/letsencrypt/live/${host}/privkey.pem;`,
  ];
  const lines = [
    "# stackyard: chitter media origin (seed: nginx on tempo tries all three locations)",
    "proxy_cache_path /var/lib/nginx/media-cache levels=1:2 keys_zone=media:64m max_size=200g inactive=365d use_temp_path=off;",
    "",
    "server {",
    "  listen 80;",
    "  listen [::]:80;",
    `  server_name ${[ownHost, ...old.map((h) => h.host)].join(" ")};`,
    "  return 301 https://$host$request_uri;",
    "}",
    "",
    "server {",
    "  listen 443 ssl;",
    "  listen [::]:443 ssl;",
    `  server_name ${ownHost};`,
    ...tls(ownHost),
    `  resolver ${RESOLVERS} valid=300s;`,
    "  proxy_http_version 1.1;",
    "  proxy_intercept_errors on;",
    "  recursive_error_pages on;",
    "",
    "  location / {",
    "    limit_except GET HEAD { deny all; }",
    `    proxy_pass http://127.0.0.1:9000/${minioBucket}$uri;`,
    remotes.length > 0 ? `    error_page 403 404 = @${remotes[0]!.name};` : "",
    "  }",
  ];
  remotes.forEach((o, i) => {
    const { host, path } = split(o.url);
    const next = remotes[i + 1];
    lines.push(
      "",
      `  location @${o.name} {`,
      `    set $origin_${i} ${host};`,
      `    proxy_pass https://$origin_${i}${path}$uri;`,
      `    proxy_set_header Host ${host};`,
      "    proxy_ssl_server_name on;",
      `    proxy_ssl_name ${host};`,
      "    proxy_cache media;",
      "    proxy_cache_valid 200 365d;",
      "    proxy_cache_valid 404 10m;",
      ...(next ? [`    error_page 403 404 = @${next.name};`] : []),
      "  }",
    );
  });
  lines.push("}");
  for (const h of old) {
    lines.push(
      "",
      "server {",
      "  listen 443 ssl;",
      "  listen [::]:443 ssl;",
      `  server_name ${h.host};`,
      ...tls(h.host),
      `  return 301 https://${spec.media.canonicalHost}$request_uri;`,
      "}",
    );
  }
  return lines.filter((l, i, all) => !(l === "" && all[i - 1] === "")).join("\n") + "\n";
}
