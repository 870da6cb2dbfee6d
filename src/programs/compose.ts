import { stringify } from "yaml";
import type { SidekiqSpec } from "./config/sidekiq";

/** A network attachment; `aliases` as in the seed's `internal_network - Alias: fe_web`. */
export type NetworkRef =
  | string
  | {
      name: string;
      aliases: string[];
      /** A fixed address on the network (compose `ipv6_address`), e.g. a published public IPv6 address. */
      ipv6Address?: string;
    };

export interface ComposeService {
  image: string;
  command?: string;
  replicas: number;
  networks: NetworkRef[];
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  /** Compose `env_file`, relative to the project directory (e.g. Mastodon's `.env.production`). */
  envFile?: string[];
}

export interface ComposeNetwork {
  /** No route to the Internet: every network but the external one. */
  internal: boolean;
  ipv4Subnet?: string;
  ipv6Subnet?: string;
}

/**
 * Renders a docker-compose file. Compose hosts (vulpine, chitter) are not cloud resources; the
 * program publishes this file to object storage, and a timer on the host pulls it and runs
 * `docker compose up -d --remove-orphans`. So a sidekiq scale-out changes one object, never the host.
 */
export function renderCompose(
  services: Record<string, ComposeService>,
  networks: Record<string, ComposeNetwork>,
): string {
  const doc = {
    services: Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        {
          image: s.image,
          ...(s.command ? { command: s.command } : {}),
          restart: "always",
          deploy: { replicas: s.replicas },
          networks: Object.fromEntries(
            s.networks.map((n) =>
              typeof n === "string"
                ? [n, {}]
                : [n.name, { aliases: n.aliases, ...(n.ipv6Address ? { ipv6_address: n.ipv6Address } : {}) }],
            ),
          ),
          ...(s.ports ? { ports: s.ports } : {}),
          ...(s.volumes ? { volumes: s.volumes } : {}),
          ...(s.envFile ? { env_file: s.envFile } : {}),
          ...(s.environment ? { environment: s.environment } : {}),
        },
      ]),
    ),
    networks: Object.fromEntries(
      Object.entries(networks).map(([name, n]) => {
        const subnets = [n.ipv4Subnet, n.ipv6Subnet].filter((x): x is string => x !== undefined);
        return [
          name,
          {
            internal: n.internal,
            ...(n.ipv6Subnet ? { enable_ipv6: true } : {}),
            ...(subnets.length > 0 ? { ipam: { config: subnets.map((subnet) => ({ subnet })) } } : {}),
          },
        ];
      }),
    ),
  };
  return stringify(doc, { lineWidth: 0 });
}

/**
 * Mastodon sidekiq as compose services: `sidekiq-scheduler` with exactly one replica (the only
 * process on the `scheduler` queue) and one `sidekiq-<pool>` service per pool, scaled by the knob.
 */
export function sidekiqServices(
  image: string,
  spec: SidekiqSpec,
  networks: NetworkRef[],
): Record<string, ComposeService> {
  const cmd = (threads: number, queues: string[]) =>
    `bundle exec sidekiq -c ${threads} ${queues.map((q) => `-q ${q}`).join(" ")}`;
  const out: Record<string, ComposeService> = {
    "sidekiq-scheduler": {
      image,
      command: cmd(spec.scheduler.threads, spec.scheduler.queues),
      replicas: 1,
      networks,
      environment: { DB_POOL: String(spec.scheduler.threads) },
    },
  };
  for (const [pool, p] of Object.entries(spec.pools)) {
    out[`sidekiq-${pool}`] = {
      image,
      command: cmd(p.threads, p.queues),
      replicas: p.count,
      networks,
      environment: { DB_POOL: String(p.threads) },
    };
  }
  return out;
}
