#!/usr/bin/env bash
# Fuzzes the API from /v1/openapi.json with schemathesis (PyPI) in bench/.venv; see bench/fuzz-api.ts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ ! -x bench/.venv/bin/schemathesis ]]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q schemathesis
fi
npx tsc -p tsconfig.json
node dist/bench/fuzz-api.js "${1:-50}"
