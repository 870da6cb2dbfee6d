/**
 * A compose host that follows a compose file the program publishes to S3-compatible object storage:
 * a pull script, a oneshot service that runs it and then compose's `up`, and a timer. The text
 * is static (no knob, no secret), because userData replaces a machine on every provider here.
 *
 * The read-only key the script signs with is not in userData either: a site exports it as a secret
 * output and the operator installs it once at DEPLOY_KEY_FILE (`ACCESS_KEY=` / `SECRET_KEY=` lines,
 * mode 0600). Rotating the key is then a file on the host, never a new host.
 */

/** The deploy key the pull script reads: `ACCESS_KEY=...` and `SECRET_KEY=...` lines, mode 0600. */
export const DEPLOY_KEY_FILE = "/etc/stackyard/deploy-key.env";
export const PULL_SCRIPT = "/opt/stackyard/pull-compose";
export const SYNC_SERVICE = "stackyard-compose-sync.service";
export const SYNC_TIMER = "stackyard-compose-sync.timer";

export interface ComposeSyncArgs {
  /** The compose project directory on the host, e.g. /opt/mastodon. */
  composeDir: string;
  bucket: string;
  key: string;
  /** The S3 signing region (Linode: the cluster, e.g. us-east-1; AWS: the bucket's region). */
  s3Region: string;
  /**
   * How the host runs compose: `v1` is Debian 12's `docker-compose` package (run with
   * `--compatibility`, so `deploy.replicas` scales services), `v2` the `docker compose` plugin.
   */
  compose: "v1" | "v2";
  /** Whose object storage serves the bucket (sets the default endpoint). */
  endpoint: "linode" | "aws";
  /**
   * An env file the compose names that holds the site's secrets: the script refuses to apply a
   * compose file while it is missing, with a message saying so. @defaultValue none checked
   */
  requiredEnvFile?: string;
}

const ENDPOINTS = {
  linode: "https://${region}.linodeobjects.com",
  aws: "https://s3.${region}.amazonaws.com",
} as const;

/**
 * Fetches `<bucket>/<key>` (path style, SigV4 by curl), accepts it only if `docker compose config`
 * does with the project's files in place, and then moves it over the live file in one rename. The
 * key never reaches the command line (curl reads it from stdin). Arguments: bucket, key, signing
 * region. STACKYARD_S3_ENDPOINT, STACKYARD_COMPOSE_DIR and STACKYARD_DEPLOY_KEY override the
 * defaults (tests point them at loopback and scratch folders).
 */
export function pullComposeScript(
  args: Pick<ComposeSyncArgs, "composeDir" | "endpoint" | "requiredEnvFile" | "compose">,
): string {
  const compose = args.compose === "v1" ? "docker-compose --compatibility" : "docker compose";
  const envCheck = args.requiredEnvFile
    ? `if [ ! -f "$dir/${args.requiredEnvFile}" ]; then
  echo "pull-compose: $dir/${args.requiredEnvFile} is missing; refusing to start without its secrets" >&2
  exit 1
fi
`
    : "";
  return `#!/bin/bash
# stackyard: pulls the compose file the program publishes for this host.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: pull-compose <bucket> <key> <s3-region>" >&2
  exit 2
fi
bucket="$1"
key="$2"
region="$3"
endpoint="\${STACKYARD_S3_ENDPOINT:-${ENDPOINTS[args.endpoint]}}"
dir="\${STACKYARD_COMPOSE_DIR:-${args.composeDir}}"
key_file="\${STACKYARD_DEPLOY_KEY:-${DEPLOY_KEY_FILE}}"

if [ ! -r "$key_file" ]; then
  echo "pull-compose: no deploy key at $key_file (install it from the stack's deployKey output)" >&2
  exit 1
fi
access="$(sed -n 's/^ACCESS_KEY=//p' "$key_file")"
secret="$(sed -n 's/^SECRET_KEY=//p' "$key_file")"
if [ -z "$access" ] || [ -z "$secret" ]; then
  echo "pull-compose: $key_file lacks ACCESS_KEY or SECRET_KEY" >&2
  exit 1
fi
${envCheck}
tmp="$(mktemp "$dir/.docker-compose.yml.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
printf 'user = "%s:%s"\\n' "$access" "$secret" |
  curl --config - -fsS --retry 3 --aws-sigv4 "aws:amz:\${region}:s3" -o "$tmp" "\${endpoint}/\${bucket}/\${key}"
${compose} -f "$tmp" --project-directory "$dir" config -q
chmod 0644 "$tmp"
mv -f "$tmp" "$dir/docker-compose.yml"
trap - EXIT
`;
}

export function composeSyncService(
  args: Pick<ComposeSyncArgs, "composeDir" | "bucket" | "key" | "s3Region" | "compose">,
): string {
  const up =
    args.compose === "v1"
      ? "/usr/bin/docker-compose --compatibility up -d --remove-orphans"
      : "/usr/bin/docker compose up -d --remove-orphans";
  return [
    "[Unit]",
    "Description=stackyard: pull the published compose file and apply it",
    "Wants=network-online.target",
    // docker.service comes with docker.io, enabled by cloud-init's runcmd before this timer.
    "After=network-online.target docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `WorkingDirectory=${args.composeDir}`,
    `ExecStart=${PULL_SCRIPT} ${args.bucket} ${args.key} ${args.s3Region}`,
    `ExecStartPost=${up}`,
    "",
  ].join("\n");
}

export const COMPOSE_SYNC_TIMER = [
  "[Unit]",
  "Description=stackyard: follow the published compose file",
  "",
  "[Timer]",
  "OnBootSec=2min",
  "OnUnitActiveSec=5min",
  `Unit=${SYNC_SERVICE}`,
  "",
  "[Install]",
  "WantedBy=timers.target",
  "",
].join("\n");

/** The cloud-init files and first-boot commands of a host that follows its published compose file. */
export function composeSyncHost(args: ComposeSyncArgs): {
  files: { path: string; content: string; permissions?: string }[];
  runcmd: string[];
  /** For cloudInit: the package that provides the compose the units call. */
  composePackage: "docker-compose-v2" | "docker-compose";
} {
  return {
    composePackage: args.compose === "v1" ? "docker-compose" : "docker-compose-v2",
    files: [
      { path: PULL_SCRIPT, content: pullComposeScript(args), permissions: "0755" },
      { path: `/etc/systemd/system/${SYNC_SERVICE}`, content: composeSyncService(args) },
      { path: `/etc/systemd/system/${SYNC_TIMER}`, content: COMPOSE_SYNC_TIMER },
    ],
    runcmd: [
      `install -d -m 0755 ${args.composeDir}`,
      "install -d -m 0700 /etc/stackyard",
      `systemctl enable --now ${SYNC_TIMER}`,
    ],
  };
}
