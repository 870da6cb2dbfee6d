import { createHash } from "node:crypto";
import type { TheatlSpec } from "./spec";

/**
 * theATL's edge (seed 002): HAProxy is the public endpoint and balances TCP to the nginx hosts;
 * nginx terminates HTTPS and relays to puma (REST API and the compiled pages) and the streaming
 * server (WebSockets) on the web droplets. Both find their upstreams by private DNS names the
 * program keeps pointed at the current droplets, so a web scale changes records, not these files.
 */

/** Private names of the edge's upstreams (A records under the site's domain, one per droplet). */
export const THEATL_WEB = "web.int";
export const THEATL_NGINX = "nginx.int";

/** Where certbot keeps the site's certificate on the nginx host (issued by the operator: not automated). */
export const certificateDir = (s: TheatlSpec) => `/etc/letsencrypt/live/${s.domain}`;

/** The resolver compose networks give their containers: it re-resolves the private names every 10 s. */
const DOCKER_DNS = "127.0.0.11";

/** A short digest of a rendered file: a compose label, so a changed file recreates its container. */
export function fileDigest(content: string): string {
  return createHash("sha256").update(content).digest("hex").slice(0, 16);
}

/**
 * HAProxy in TCP mode: TLS passes through to nginx with a PROXY v2 header, so nginx sees each
 * client's address. Up to `maxNginx` nginx hosts behind one name, health-checked.
 */
export function haproxyCfg(s: TheatlSpec, maxNginx = 4): string {
  const upstream = `${THEATL_NGINX}.${s.domain}`;
  const backend = (port: number, balance: string) =>
    [
      `backend nginx_${port}`,
      `  balance ${balance}`,
      `  server-template nginx 1-${maxNginx} ${upstream}:${port} check resolvers vpc init-addr none send-proxy-v2`,
    ].join("\n");
  return [
    "global",
    "  log stdout format raw local0",
    "  maxconn 20000",
    "",
    "defaults",
    "  log global",
    "  mode tcp",
    "  option tcplog",
    "  timeout connect 5s",
    // Streaming connections (WebSockets) stay open for as long as a client is on the site.
    "  timeout client 1h",
    "  timeout server 1h",
    "",
    "resolvers vpc",
    "  parse-resolv-conf",
    "  hold valid 10s",
    "",
    "frontend http",
    "  bind :80",
    "  default_backend nginx_80",
    "",
    "frontend https",
    "  bind :443",
    "  default_backend nginx_443",
    "",
    backend(80, "roundrobin"),
    "",
    backend(443, "leastconn"),
    "",
  ].join("\n");
}

/** The headers every proxied location sets (Mastodon reads the scheme and the client's address). */
const PROXY_HEADERS = [
  "proxy_set_header Host $host;",
  "proxy_set_header X-Real-IP $remote_addr;",
  "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
  "proxy_set_header X-Forwarded-Proto https;",
  "proxy_http_version 1.1;",
];

/**
 * nginx's site (an http-context file for conf.d): HTTP answers ACME challenges and redirects,
 * HTTPS relays `/api/v1/streaming` to the streaming server and everything else to puma. Upstreams
 * are variables, so nginx resolves the private names per request (the web droplets may change).
 */
export function nginxConf(s: TheatlSpec): string {
  const web = `${THEATL_WEB}.${s.domain}`;
  const indent = (lines: string[], n: number) => lines.map((l) => `${" ".repeat(n)}${l}`);
  const realIp = [`set_real_ip_from ${s.vpc.ipRange};`, "real_ip_header proxy_protocol;"];
  return [
    "map $http_upgrade $connection_upgrade {",
    "  default upgrade;",
    "  '' close;",
    "}",
    "",
    `resolver ${DOCKER_DNS} valid=10s ipv6=off;`,
    "",
    "server {",
    "  listen 80 proxy_protocol;",
    `  server_name ${s.domain};`,
    ...indent(realIp, 2),
    "  location /.well-known/acme-challenge/ {",
    "    root /var/www/certbot;",
    "  }",
    "  location / {",
    "    return 301 https://$host$request_uri;",
    "  }",
    "}",
    "",
    "server {",
    "  listen 443 ssl proxy_protocol;",
    `  server_name ${s.domain};`,
    `  ssl_certificate ${certificateDir(s)}/fullchain.pem;`,
    `  ssl_certificate_key ${certificateDir(s)}/privkey.pem;`,
    "  ssl_protocols TLSv1.2 TLSv1.3;",
    ...indent(realIp, 2),
    // Mastodon's own upload limits (video 99 MB) decide; nginx must not refuse first.
    "  client_max_body_size 99m;",
    "",
    "  location /api/v1/streaming {",
    `    set $streaming http://${web}:4000;`,
    "    proxy_pass $streaming;",
    ...indent(PROXY_HEADERS, 4),
    "    proxy_set_header Upgrade $http_upgrade;",
    "    proxy_set_header Connection $connection_upgrade;",
    "    proxy_buffering off;",
    "    proxy_read_timeout 1h;",
    "  }",
    "",
    "  location / {",
    `    set $web http://${web}:3000;`,
    "    proxy_pass $web;",
    ...indent(PROXY_HEADERS, 4),
    '    proxy_set_header Connection "";',
    "  }",
    "}",
    "",
  ].join("\n");
}
