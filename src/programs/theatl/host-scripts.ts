/**
 * The scripts and units a theATL host is booted with. They are static per role family: what changes
 * with config (compose file, env, the dump timer) is published to the deploy bucket and pulled by
 * `stackyard-deploy.timer`; what changes with operations (queues, threads, the database role) is read
 * from the droplet's own tags each time the deploy unit runs, so a retag takes effect on the next run.
 */

/** Where the metadata service answers; tests point it at a folder holding a `tags` file (file://). */
const TAGS = 'tags=$(curl -fsS "${METADATA_URL:-http://169.254.169.254/metadata/v1}/tags")';

/** Pulls the family's files, asks the role hook for the host's current role, converges compose. */
export const DEPLOY_SCRIPT = `#!/bin/bash
# Pulls this role family's files from the deploy bucket, adds what the droplet's current tags say
# (the role hook), and converges docker compose. Run by stackyard-deploy.timer.
set -euo pipefail
# shellcheck source=/dev/null
. /etc/stackyard/deploy.conf
dir=/opt/mastodon
mkdir -p "$dir/units"
s3cmd --config=/etc/stackyard/deploy.s3cfg --no-progress sync "s3://\${DEPLOY_BUCKET}/\${FAMILY}/" "$dir/"
chmod 0600 "$dir/host.env"
role_env=""
if [ -x /opt/stackyard/role-env ]; then role_env=$(/opt/stackyard/role-env); fi
printf '%s\\n' "$role_env" > "$dir/role.env"
umask 077
cat "$dir/host.env" "$dir/role.env" > "$dir/.env.next"
mv "$dir/.env.next" "$dir/.env"
# Units whose schedule is config (the dump timer) come with the compose file.
changed=0
for unit in "$dir"/units/*; do
  [ -e "$unit" ] || continue
  target="/etc/systemd/system/$(basename "$unit")"
  if ! cmp -s "$unit" "$target"; then
    install -m 0644 "$unit" "$target"
    changed=1
  fi
done
if [ "$changed" = 1 ]; then systemctl daemon-reload; fi
for timer in "$dir"/units/*.timer; do
  [ -e "$timer" ] || continue
  systemctl enable --now "$(basename "$timer")"
done
cd "$dir"
if grep -qx 'STACKYARD_HOLD=1' role.env; then
  docker compose stop
else
  docker compose up -d --remove-orphans
fi
`;

export const DEPLOY_SERVICE = `[Unit]
Description=Pull this host's compose files and converge them to its current tags
Wants=network-online.target docker.service
After=network-online.target docker.service

[Service]
Type=oneshot
ExecStart=/opt/stackyard/deploy
`;

export const DEPLOY_TIMER = `[Unit]
Description=Re-read the deploy bucket and this droplet's tags every minute

[Timer]
OnBootSec=30s
OnUnitInactiveSec=1min

[Install]
WantedBy=timers.target
`;

/** Sidekiq: threads and queues of this droplet, from its sidekiq-threads:* and sidekiq-q:* tags. */
export const SIDEKIQ_ROLE_ENV = `#!/bin/bash
# Prints this droplet's sidekiq settings from its current tags, as compose variables:
# SIDEKIQ_THREADS from sidekiq-threads:<n>, SIDEKIQ_QUEUES from each sidekiq-q:<queue>.
set -euo pipefail
${TAGS}
threads=$(printf '%s\\n' "$tags" | sed -n 's/^sidekiq-threads:\\([0-9][0-9]*\\)$/\\1/p' | head -n 1)
queues=$(printf '%s\\n' "$tags" | sed -n 's/^sidekiq-q:\\([a-z_]*\\)$/-q \\1/p' | tr '\\n' ' ')
if [ -z "$threads" ] || [ -z "$queues" ]; then
  echo "this droplet has no sidekiq-threads:/sidekiq-q: tags" >&2
  exit 1
fi
printf 'SIDEKIQ_THREADS=%s\\nSIDEKIQ_QUEUES=%s\\n' "$threads" "\${queues% }"
`;

/**
 * PostgreSQL: the role tag decides what runs. A standby whose data directory is empty is first
 * copied from the primary (pg_basebackup) and gets standby.signal; the settings (primary_conninfo)
 * are the same file on every node. A fenced node holds (its db container stops). Promotion and
 * re-joining an old primary are the operations' imperative steps, not this hook's.
 */
export const PG_ROLE_ENV = `#!/bin/bash
# Prints PG_ROLE from this droplet's current role tag and prepares a new standby's data directory.
set -euo pipefail
${TAGS}
has() { printf '%s\\n' "$tags" | grep -qx "$1"; }
data=\${PGDATA_HOST:-/mnt/data/postgres}
if has role:pg-primary; then
  role=primary
elif has role:pg-standby; then
  role=standby
else
  role=fenced
fi
if [ "$role" = standby ] && [ ! -s "$data/PG_VERSION" ]; then
  # shellcheck source=/dev/null
  . /opt/mastodon/host.env
  install -d -o 999 -g 999 -m 0700 "$data"
  docker run --rm --network host --user 999:999 -e PGPASSWORD="$REPLICATION_PASSWORD" \\
    -v "$data:/var/lib/postgresql/data" "$POSTGRES_IMAGE" \\
    pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -D /var/lib/postgresql/data -X stream >&2
fi
if [ "$role" = standby ]; then
  touch "$data/standby.signal"
  chown 999:999 "$data/standby.signal"
fi
echo "PG_ROLE=$role"
if [ "$role" = fenced ]; then echo "STACKYARD_HOLD=1"; fi
`;

/** One pg_dump to the dumps bucket, on the single host tagged backup:pgdump. */
export const PG_DUMP_SCRIPT = `#!/bin/bash
# Dumps the Mastodon database to the dumps bucket. Every database host has the timer; only the one
# tagged backup:pgdump (the first standby, or the primary when there is none) dumps.
set -euo pipefail
${TAGS}
if ! printf '%s\\n' "$tags" | grep -qx 'backup:pgdump'; then
  echo "not the dump host (no backup:pgdump tag)"
  exit 0
fi
# shellcheck source=/dev/null
. /opt/mastodon/host.env
key="$(date -u +%Y/%m/%d/%H%M%SZ).dump"
cd /opt/mastodon
docker compose exec -T db pg_dump -U "$DB_USER" -Fc "$DB_NAME" |
  s3cmd --config=/etc/stackyard/dumps.s3cfg --no-progress put - "s3://\${DUMPS_BUCKET}/\${key}"
echo "dumped $DB_NAME to s3://\${DUMPS_BUCKET}/\${key}"
`;

export const PG_DUMP_SERVICE = `[Unit]
Description=pg_dump of the Mastodon database to the dumps bucket
Wants=docker.service
After=docker.service

[Service]
Type=oneshot
ExecStart=/opt/stackyard/pg-dump
`;

/** The dump schedule is config (postgres.dumps.everyMinutes), so the timer is published, not booted. */
export function pgDumpTimer(everyMinutes: number): string {
  return `[Unit]
Description=pg_dump every ${everyMinutes} minutes

[Timer]
OnBootSec=${everyMinutes}min
OnUnitActiveSec=${everyMinutes}min

[Install]
WantedBy=timers.target
`;
}

/** awslogs reads AWS credentials from dockerd's environment. */
export const DOCKER_AWSLOGS_DROPIN = `[Service]
EnvironmentFile=/etc/stackyard/awslogs.env
`;
