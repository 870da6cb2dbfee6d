#!/usr/bin/env bash
# The whole test suite: provisions what it needs, then runs mocha over dist/test.
# The last line is `N passed, N failed, N skipped`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# The state-backend tests' S3 server (scripts/provision-s3.sh): built once, reused afterwards.
export STACKYARD_SETUP_S3=1
STACKYARD_SETUP_BROWSER=1 STACKYARD_SETUP_POSTGRES=1 STACKYARD_SETUP_HOSTS=1 STACKYARD_SETUP_SENTINEL=1 bash scripts/setup.sh
# The rooms of src/ and their import rules (docs/structure.md): a broken rule or a cycle fails the suite.
npm run --silent depcruise
# The repo's prettier config, applied to every TypeScript file (`npm run format` fixes it).
npm run --silent format:check
# With no arguments, every test; with arguments, only those files (e.g. dist/test/workers/cancel-running.test.js).
if [[ $# -eq 0 ]]; then set -- "dist/test/**/*.test.js"; fi
npx mocha "$@"
