/**
 * A compose host that follows a compose file the program publishes to S3-compatible object storage:
 * a pull script, a oneshot service that runs it and then `docker compose up`, and a timer. The text
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
  args: Pick<ComposeSyncArgs, "composeDir" | "endpoint" | "requiredEnvFile">,
): string {
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
docker compose -f "$tmp" --project-directory "$dir" config -q
chmod 0644 "$tmp"
mv -f "$tmp" "$dir/docker-compose.yml"
trap - EXIT
`;
}

export function composeSyncService(
  args: Pick<ComposeSyncArgs, "composeDir" | "bucket" | "key" | "s3Region">,
): string {
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
    "ExecStartPost=/usr/bin/docker compose up -d --remove-orphans",
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
} {
  return {
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
