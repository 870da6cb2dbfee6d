#!/usr/bin/env bash
# Runs stackyard on its embedded defaults: API and workers in one process, a
# private Redis, the sandbox clouds, state under .stackyard/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh
export STACKYARD_SANDBOX_BOOTSTRAP="${STACKYARD_SANDBOX_BOOTSTRAP:-true}"
exec node dist/src/service/main.js --role=all "$@"
