#!/usr/bin/env bash
# Provision the S3-compatible server the state-backend tests start on loopback: SeaweedFS's
# `weed` (Apache-2.0; its S3 gateway), built from its Go module at the version pinned in
# scripts/s3-module/go.mod (replace directive carried over, go.sum committed) into a
# version-keyed folder under $HOME that later runs reuse without rebuilding.
#
# Only the tests need it; the service itself talks to whatever S3 store PULUMI_BACKEND_URL names.
# Prints the binary's path on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(sed -n 's/^require github.com\/seaweedfs\/seaweedfs \(.*\)$/\1/p' "$here/s3-module/go.mod")"
s3_home="${STACKYARD_S3_HOME:-$HOME/.stackyard/s3}"
bin="$s3_home/$version/bin"

say() { echo "[s3] $*" >&2; }

if [[ -x "$bin/weed" ]]; then
  say "reusing weed $version in $bin"
  echo "$bin/weed"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  say "ERROR: no Go toolchain to build the S3 test server (Debian: apt-get install golang-go, or from go.dev)."
  exit 3
fi
need_go="$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$here/s3-module/go.mod")"
have_go="$(go env GOVERSION | sed 's/^go//')"
if [[ "$(printf '%s\n%s\n' "$need_go" "$have_go" | sort -V | head -n 1)" != "$need_go" ]]; then
  say "ERROR: SeaweedFS $version needs Go >= $need_go, found $have_go (or set GOTOOLCHAIN=go$need_go to fetch one)."
  exit 3
fi
say "building SeaweedFS weed $version from its Go module (about 12 minutes on 2 busy cores the first time)..."
started=$(date +%s)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/s3-module/go.mod" "$here/s3-module/go.sum" "$here/s3-module/tools.go" "$tmp/"
mkdir -p "$bin"
(
  cd "$tmp"
  export GOFLAGS="-mod=readonly" GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
  say "downloading modules (cached in $(go env GOMODCACHE))..."
  go mod download
  say "compiling..."
  go build -trimpath -o "$bin/weed.partial" -ldflags "-s -w" github.com/seaweedfs/seaweedfs/weed &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 20
    kill -0 "$pid" 2>/dev/null && say "still compiling... $(( $(date +%s) - started ))s"
  done
  wait "$pid"
)
mv "$bin/weed.partial" "$bin/weed"
say "built weed $version in $(( $(date +%s) - started ))s"
echo "$bin/weed"
