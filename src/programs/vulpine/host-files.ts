/**
 * What smithwicks is given at first boot to follow the compose file the program publishes: a pull
 * script, a oneshot service that runs it and then `docker compose up`, and a timer. The text is
 * static (no knob, no secret): userData replaces a Linode, so nothing that changes may live in it.
 *
 * The read-only Object Storage key the script signs with is not in userData either: the program
 * exports it as a secret output and the operator installs it once on the host (docs/site-programs.md,
 * vulpine). Rotating the key is then a file on the host, never a new host.
 */

/** Where the host keeps the compose project (the seed's Mastodon checkout). */
export const COMPOSE_DIR = "/opt/mastodon";
/** The deploy key the pull script reads: `ACCESS_KEY=...` and `SECRET_KEY=...` lines, mode 0600. */
export const DEPLOY_KEY_FILE = "/etc/stackyard/deploy-key.env";
/** Mastodon's secrets (SECRET_KEY_BASE, DB_PASS, ...): operator-held, never rendered by the program. */
export const MASTODON_ENV_FILE = ".env.production";
export const PULL_SCRIPT = "/opt/stackyard/pull-compose";
export const SYNC_SERVICE = "stackyard-compose-sync.service";
export const SYNC_TIMER = "stackyard-compose-sync.timer";

/**
 * Fetches `s3://<bucket>/<key>` from Linode Object Storage (path style, SigV4 by curl), accepts it
 * only if `docker compose config` does with the env file in place, and then moves it over the live
 * file in one rename. The key never reaches the command line (curl reads it from stdin).
 * Arguments: bucket, key, S3 region (e.g. us-east-1). STACKYARD_S3_ENDPOINT, STACKYARD_COMPOSE_DIR
 * and STACKYARD_DEPLOY_KEY override the defaults (tests point them at loopback and scratch folders).
 */
export const PULL_COMPOSE_SCRIPT = `#!/bin/bash
# stackyard: pulls the compose file the program publishes for this host.
set -euo pipefail

if [ "$#" -ne 3 ]; then
  echo "usage: pull-compose <bucket> <key> <s3-region>" >&2
  exit 2
fi
bucket="$1"
key="$2"
region="$3"
endpoint="\${STACKYARD_S3_ENDPOINT:-https://\${region}.linodeobjects.com}"
dir="\${STACKYARD_COMPOSE_DIR:-${COMPOSE_DIR}}"
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
if [ ! -f "$dir/${MASTODON_ENV_FILE}" ]; then
  echo "pull-compose: $dir/${MASTODON_ENV_FILE} is missing; refusing to start Mastodon without its secrets" >&2
  exit 1
fi

tmp="$(mktemp "$dir/.docker-compose.yml.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
printf 'user = "%s:%s"\\n' "$access" "$secret" |
  curl --config - -fsS --retry 3 --aws-sigv4 "aws:amz:\${region}:s3" -o "$tmp" "\${endpoint}/\${bucket}/\${key}"
docker compose -f "$tmp" --project-directory "$dir" config -q
chmod 0644 "$tmp"
mv -f "$tmp" "$dir/docker-compose.yml"
trap - EXIT
`;

export function syncService(bucket: string, key: string, s3Region: string): string {
  return [
    "[Unit]",
    "Description=stackyard: pull the published compose file and apply it",
    "Wants=network-online.target",
    // docker.service comes with docker.io, enabled by cloud-init's runcmd before this timer.
    "After=network-online.target docker.service",
    "",
    "[Service]",
    "Type=oneshot",
    `WorkingDirectory=${COMPOSE_DIR}`,
    `ExecStart=${PULL_SCRIPT} ${bucket} ${key} ${s3Region}`,
    "ExecStartPost=/usr/bin/docker compose up -d --remove-orphans",
    "",
  ].join("\n");
}

export const SYNC_TIMER_UNIT = [
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

/** Linode's S3 region for an Object Storage region ("us-east" is served as cluster us-east-1). */
export function s3RegionOf(linodeRegion: string): string {
  return /-\d+$/.test(linodeRegion) ? linodeRegion : `${linodeRegion}-1`;
}
