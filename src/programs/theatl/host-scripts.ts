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
 * PostgreSQL: the role agent. Each deploy run converges this host's database to the role of its
 * current role tag, and does nothing more when it already is in it:
 * - primary: a data directory with standby.signal (the host was a standby) loses it; a running
 *   server is promoted (`pg_ctl promote` in the container), a stopped one starts as a primary.
 * - standby: an empty data directory is copied from the primary (pg_basebackup); a cluster without
 *   standby.signal (an old primary rejoining) is stopped, moved aside to
 *   `<data>.pre-rejoin-<UTC time>` (kept, never deleted) and copied afresh; then standby.signal.
 *   The settings (primary_conninfo to the db-primary name) are the same file on every node.
 * - fenced (any other tag): holds; the deploy script stops its db container.
 * The operation only moves tags and DNS; the hosts do the rest within a deploy period.
 */
export const PG_ROLE_ENV = `#!/bin/bash
# The database role agent: converges this host's PostgreSQL to the role of its current role tag
# (role:pg-primary, role:pg-standby, anything else fenced) and prints PG_ROLE=<role>, plus
# STACKYARD_HOLD=1 when fenced (the deploy script then stops the db container). Logs go to stderr.
# Idempotent: a host already in its role is left as it is.
#   primary: standby.signal is removed; a running standby is promoted first (pg_ctl promote).
#   standby: an empty data directory is copied from the primary (pg_basebackup, with a fast
#            checkpoint: a spread one can hold a new standby for minutes); a cluster without
#            standby.signal (this host was the primary) is stopped and moved aside to
#            <data>.pre-rejoin-<UTC time> (kept, never deleted), then copied afresh; standby.signal.
set -euo pipefail
${TAGS}
has() { printf '%s\\n' "$tags" | grep -qx "$1"; }
data=\${PGDATA_HOST:-/mnt/data/postgres}
# The data directory as the db container sees it; compose runs where the deploy script runs it.
pgdata=/var/lib/postgresql/data
compose() { (cd /opt/mastodon && docker compose "$@"); }
if has role:pg-primary; then
  role=primary
elif has role:pg-standby; then
  role=standby
else
  role=fenced
fi
if [ "$role" = primary ] && [ -e "$data/standby.signal" ]; then
  if compose exec -T -u postgres db pg_ctl status -D "$pgdata" >/dev/null 2>&1; then
    echo "role agent: promoting the running standby to primary" >&2
    compose exec -T -u postgres db pg_ctl promote -w -D "$pgdata" >&2
  fi
  # The server removes it when it is promoted; a stopped one starts as a primary without it.
  rm -f "$data/standby.signal"
fi
if [ "$role" = standby ] && [ -e "$data/global/pg_control" ] && [ ! -e "$data/standby.signal" ]; then
  # An old primary rejoining: it must not come back as a second primary.
  aside="$data.pre-rejoin-$(date -u +%Y%m%dT%H%M%SZ)"
  echo "role agent: $data holds a cluster without standby.signal; stopping it and keeping it at $aside" >&2
  compose stop db >&2
  mv -T "$data" "$aside"
fi
if [ "$role" = standby ] && [ ! -s "$data/PG_VERSION" ]; then
  # shellcheck source=/dev/null
  . /opt/mastodon/host.env
  echo "role agent: copying $data from $PRIMARY_HOST" >&2
  install -d -o 999 -g 999 -m 0700 "$data"
  docker run --rm --network host --user 999:999 -e PGPASSWORD="$REPLICATION_PASSWORD" \\
    -v "$data:$pgdata" "$POSTGRES_IMAGE" \\
    pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -D "$pgdata" -X stream --checkpoint=fast >&2
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
