#!/usr/bin/env bash
# Installs everything stackyard needs on a fresh machine, idempotently:
# Node packages, Redis (Debian's redis-server), the TypeScript build, and the
# pinned Pulumi engine (scripts/provision-engine.sh). Later runs reuse all of it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "[setup] $*" >&2; }

# One setup at a time on this machine: checkouts share the engine, the S3 server and the packages
# installed from Debian under ~/.stackyard, and two builds of one binary would write the same file.
mkdir -p "$HOME/.stackyard"
exec 9>"$HOME/.stackyard/setup.lock"
if ! flock -n 9; then
  say "another setup is running on this machine; waiting for it..."
  flock 9
fi

# Node >= 20.19 (see docs/engine.md for why not 22).
if ! command -v node >/dev/null 2>&1; then
  say "ERROR: Node.js >= 20.19 and npm are required (Debian: apt-get install nodejs npm)."
  exit 3
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' || {
  say "ERROR: Node.js >= 20.19 required, found $(node --version)."
  exit 3
}

# Node packages as locked. `npm install` rather than `npm ci`: the registry
# reachable here lacks a few optional per-platform builds that the lock lists,
# which `npm ci` treats as an out-of-sync lock. Install scripts stay off: the
# only ones in the tree would try to download Pulumi plugins.
if ! cmp -s package-lock.json node_modules/.stackyard-lock 2>/dev/null; then
  say "installing Node packages..."
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.stackyard-lock
fi

# Redis: only the binary is needed; stackyard starts its own private server.
if [[ -z "${REDIS_URL:-}" ]] && ! command -v redis-server >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-server from Debian..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    say "ERROR: redis-server not found. Install it (Debian: sudo apt-get install redis-server) or set REDIS_URL."
    exit 3
  fi
fi

# Redis Sentinel, only for the failover tests (a primary, a replica and three sentinels on loopback;
# scripts/test.sh asks for it). The package's own sentinel service is not wanted: the tests start theirs.
if [[ "${STACKYARD_SETUP_SENTINEL:-0}" == "1" ]] && ! command -v redis-sentinel >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing redis-sentinel from Debian (failover tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-sentinel >/dev/null
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now redis-sentinel >/dev/null 2>&1 || true; fi
  else
    say "ERROR: redis-sentinel not found; the failover tests need it (Debian: sudo apt-get install redis-sentinel)."
    exit 3
  fi
fi

# Headless Chromium, only for the dashboard's browser test (scripts/test.sh asks for it).
if [[ "${STACKYARD_SETUP_BROWSER:-0}" == "1" ]] && ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium from Debian (browser tests)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "ERROR: chromium not found; the dashboard test needs it (Debian: sudo apt-get install chromium)."
    exit 3
  fi
fi

# PostgreSQL server binaries, only for the live-facts tests (a real primary and standby on
# loopback; scripts/test.sh asks for them). The service itself never needs a local PostgreSQL.
if [[ "${STACKYARD_SETUP_POSTGRES:-0}" == "1" ]] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing postgresql from Debian (live-facts tests)..."
    apt-get update -qq
    # The package would start a cluster of its own on 5432; the tests start theirs on free ports.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    if command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters -h 2>/dev/null | while read -r ver name _; do pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true; done
    fi
  else
    say "ERROR: PostgreSQL server not found; the live-facts tests need it (Debian: sudo apt-get install postgresql)."
    exit 3
  fi
fi

# The programs that consume what the site programs render for their hosts (cloud-init, compose,
# nginx, HAProxy, Caddy, shell), only for the host tests (scripts/test.sh asks for them): a rendered
# file is checked by the program that will read it. None of their services is started.
host_consumers=(cloud-init:cloud-init docker-compose:docker-compose nginx:nginx-light haproxy:haproxy caddy:caddy shellcheck:shellcheck)
if [[ "${STACKYARD_SETUP_HOSTS:-0}" == "1" ]]; then
  missing=()
  for pair in "${host_consumers[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [[ -x "/usr/sbin/${pair%%:*}" ]] || missing+=("${pair#*:}")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
      say "installing the hosts' file consumers from Debian: ${missing[*]}..."
      apt-get update -qq
      # policy-rc.d keeps the packages' own services (nginx, haproxy, caddy) from starting.
      own_policy=0
      if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && own_policy=1
      fi
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
      if [[ $own_policy == 1 ]]; then rm -f /usr/sbin/policy-rc.d; fi
    else
      say "ERROR: missing ${missing[*]}; the host tests need them (Debian: sudo apt-get install ${missing[*]})."
      exit 3
    fi
  fi
fi

# The S3-compatible server the state-backend tests start on loopback (SeaweedFS, built from its Go
# module; scripts/test.sh asks for it). The service itself never needs it.
if [[ "${STACKYARD_SETUP_S3:-0}" == "1" ]]; then
  bash scripts/provision-s3.sh >/dev/null
fi

say "compiling TypeScript..."
# From an empty dist/: a file that moved or was removed must not leave its old build behind, where
# Node would still resolve it (dist/src/programs/theatl.js before dist/src/programs/theatl/index.js).
rm -rf dist
npx tsc -p tsconfig.json

bin="$(bash scripts/provision-engine.sh | tail -n 1)"
say "ready: pulumi $("$bin/pulumi" version) in $bin"
