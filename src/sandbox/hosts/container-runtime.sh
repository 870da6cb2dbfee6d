#!/bin/bash
# The container runtime of one rehearsed database host (src/sandbox/hosts/db-host.ts): the sandbox
# has no docker, so this plays it for ONLY the docker invocations the rendered host scripts make,
# onto the host's local PostgreSQL server, and refuses anything else (exit 1):
#   docker run --rm [--network N] [--user U] [-e K=V]... [-v SRC:DST]... IMAGE pg_basebackup ARGS
#       → pg_basebackup ARGS as the local postgres user (the image's uid 999 is this machine's
#         postgres user), with each DST path read as SRC and `-h $PRIMARY_HOST` as loopback:port
#   docker compose exec -T [-u postgres] db CMD ARGS
#       → CMD ARGS as postgres against this host's server (container data path read as the host's)
#   docker compose stop [db]   → pg_ctl stop -m fast (docker stops the image with SIGINT)
#   docker compose up -d [...] → pg_ctl start with the rendered config_file / hba_file, as the
#         compose command runs postgres; an empty data directory is first initialised as the
#         image's entrypoint does (initdb as POSTGRES_USER, POSTGRES_DB, the initdb.d SQL on stdin)
# The host is found from PGDATA_HOST (the role hook's own setting): its folder holds runtime.env
# (PGBIN, PORT, SOCKDIR, CONF, HBA, LOG, PRIMARY_HOST, PRIMARY_PORT, POSTGRES_USER, POSTGRES_DB,
# POSTGRES_PASSWORD, INITDB_SQL), written by db-host.ts. STACKYARD_HOST_FAULT=promotion-fails (a
# sandbox fault) makes `pg_ctl promote` fail, as a host whose promotion fails would.
set -euo pipefail
die() {
  echo "container runtime: $*" >&2
  exit 1
}
[ -n "${PGDATA_HOST:-}" ] || die "PGDATA_HOST is not set: which host is this?"
data=$PGDATA_HOST
# shellcheck source=/dev/null
. "$(dirname "$data")/runtime.env"
cpath=/var/lib/postgresql/data
as_pg() { runuser -u postgres -- env PGHOST="$SOCKDIR" PGPORT="$PORT" "$@"; }
running() { as_pg "$PGBIN/pg_ctl" status -D "$data" >/dev/null 2>&1; }
own() { chown -R postgres:postgres "$1"; }

start() {
  if running; then return 0; fi
  mkdir -p "$data"
  chmod 0700 "$data"
  own "$data"
  local fresh=0
  if [ ! -s "$data/PG_VERSION" ]; then
    fresh=1
    local pw
    pw=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pw"
    chown postgres "$pw"
    as_pg "$PGBIN/initdb" -D "$data" -U "$POSTGRES_USER" --pwfile="$pw" --auth-local=trust \
      --auth-host=scram-sha-256 --no-sync >&2
    rm -f "$pw"
  fi
  as_pg "$PGBIN/pg_ctl" -D "$data" -l "$LOG" -w -t 60 \
    -o "-c config_file=$CONF -c hba_file=$HBA" start >&2
  if [ "$fresh" = 1 ]; then
    as_pg "$PGBIN/psql" -XAtq -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >&2
    as_pg "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" <"$INITDB_SQL" >&2
  fi
}

stop() {
  if running; then as_pg "$PGBIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2; fi
}

# Container paths (the data volume) read as the host's paths.
host_path() { if [ "$1" = "$cpath" ]; then printf '%s' "$data"; else printf '%s' "$1"; fi; }

case "${1:-} ${2:-}" in
"compose exec")
  shift 2
  [ "${1:-}" = -T ] || die "compose exec without -T: $*"
  shift
  if [ "${1:-}" = -u ]; then
    [ "$2" = postgres ] || die "compose exec as $2"
    shift 2
  fi
  [ "${1:-}" = db ] || die "compose exec into ${1:-nothing}"
  shift
  running || die "service \"db\" is not running"
  cmd=$1
  shift
  case "$cmd" in pg_ctl | psql | pg_dump | pg_isready) ;; *) die "compose exec db $cmd" ;; esac
  args=()
  for a in "$@"; do args+=("$(host_path "$a")"); done
  if [ "$cmd" = pg_ctl ] && [ "${STACKYARD_HOST_FAULT:-}" = promotion-fails ]; then
    for a in "${args[@]}"; do [ "$a" = promote ] && die "pg_ctl promote failed (sandbox fault promotion-fails)"; done
  fi
  exec runuser -u postgres -- env PGHOST="$SOCKDIR" PGPORT="$PORT" "$PGBIN/$cmd" "${args[@]}"
  ;;
"compose stop")
  shift 2
  [ $# = 0 ] || [ "$*" = db ] || die "compose stop $*"
  stop
  ;;
"compose up")
  shift 2
  [ "${1:-}" = -d ] || die "compose up without -d: $*"
  start
  ;;
"run --rm")
  shift 2
  envs=()
  vols=()
  while [ $# -gt 0 ]; do
    case "$1" in
    --network | --user) shift 2 ;;
    -e)
      envs+=("$2")
      shift 2
      ;;
    -v)
      vols+=("$2")
      shift 2
      ;;
    -*) die "docker run option $1" ;;
    *) break ;;
    esac
  done
  [ $# -ge 2 ] || die "docker run without an image and a command"
  shift # the image
  [ "$1" = pg_basebackup ] || die "docker run ... $1"
  shift
  args=()
  while [ $# -gt 0 ]; do
    a=$1
    for v in "${vols[@]}"; do [ "$a" = "${v#*:}" ] && a=${v%%:*}; done
    if [ "$a" = -h ] && [ "${2:-}" = "$PRIMARY_HOST" ]; then
      args+=(-h 127.0.0.1 -p "$PRIMARY_PORT")
      shift 2
      continue
    fi
    args+=("$a")
    shift
  done
  for v in "${vols[@]}"; do own "${v%%:*}"; done
  exec runuser -u postgres -- env "${envs[@]}" "$PGBIN/pg_basebackup" "${args[@]}"
  ;;
*) die "not a call the rendered scripts make: docker $*" ;;
esac
