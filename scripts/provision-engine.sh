#!/usr/bin/env bash
# Provision the Pulumi engine stackyard drives: the `pulumi` CLI at the pinned
# version, plus the launcher shims the Node SDK expects beside it.
#
# 1. A `pulumi` already on PATH at the pinned version is used as it is.
# 2. Otherwise the CLI is built from its Go module with the machine's Go, in the
#    wrapper module scripts/engine-module (pinned version, replace directives
#    carried over, go.sum committed), and installed into a version-keyed folder
#    under $HOME that later runs reuse without rebuilding.
# 3. The shims (language host, dynamic provider, policy analyzer) are written
#    beside the CLI every time: they are tiny and must match this checkout.
#
# Prints the bin folder on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
version="$(node -p "require('$root/node_modules/@pulumi/pulumi/package.json').version" 2>/dev/null || true)"
if [[ -z "$version" ]]; then
  version="$(node -p "require('$root/package.json').dependencies['@pulumi/pulumi']")"
fi
engine_home="${STACKYARD_ENGINE_HOME:-$HOME/.stackyard/engine}"
bin="$engine_home/v$version/bin"

say() { echo "[engine] $*" >&2; }

cli_version() { "$1" version 2>/dev/null | tr -d '[:space:]' || true; }

provision_cli() {
  if [[ -x "$bin/pulumi" && "$(cli_version "$bin/pulumi")" == "v$version" ]]; then
    say "reusing pulumi v$version in $bin"
    return
  fi
  local onpath
  onpath="$(command -v pulumi || true)"
  if [[ -n "$onpath" && "$(cli_version "$onpath")" == "v$version" ]]; then
    say "using pulumi v$version from PATH ($onpath)"
    mkdir -p "$bin"
    ln -sf "$onpath" "$bin/pulumi"
    return
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "ERROR: no pulumi v$version on PATH and no Go toolchain to build it."
    say "Install Go >= 1.25 (Debian: apt-get install golang-go, or from go.dev) or put pulumi v$version on PATH."
    exit 3
  fi
  say "building pulumi v$version from its Go module (takes a few minutes on 2 cores)..."
  local started tmp
  started=$(date +%s)
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  cp "$here/engine-module/go.mod" "$here/engine-module/go.sum" "$here/engine-module/tools.go" "$tmp/"
  mkdir -p "$bin"
  # go.sum pins every module hash, so the checksum database is not needed; the
  # proxy reachable here does not serve sumdb entries for pulumi/pkg.
  (
    cd "$tmp"
    export GOFLAGS="-mod=readonly" GONOSUMDB="github.com/pulumi/pulumi" GOTOOLCHAIN=local
    say "downloading modules (cached in $(go env GOMODCACHE))..."
    go mod download
    say "compiling..."
    go build -trimpath -o "$bin/pulumi.partial" \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$version" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      sleep 20
      kill -0 "$pid" 2>/dev/null && say "still compiling... $(( $(date +%s) - started ))s"
    done
    wait "$pid"
  )
  mv "$bin/pulumi.partial" "$bin/pulumi"
  say "built pulumi $(cli_version "$bin/pulumi") in $(( $(date +%s) - started ))s"
}

write_shim() {
  local name="$1" body="$2"
  printf '%s\n' "#!/bin/sh" "# Written by stackyard scripts/provision-engine.sh" "$body" > "$bin/$name.tmp"
  chmod +x "$bin/$name.tmp"
  mv "$bin/$name.tmp" "$bin/$name"
}

provision_shims() {
  # The engine starts these with the program's folder as working directory;
  # each finds the Node SDK the program itself uses, as the upstream shims do.
  local find_sdk='d="$PWD"; while [ "$d" != "/" ] && [ ! -d "$d/node_modules/@pulumi/pulumi" ]; do d=$(dirname "$d"); done
if [ ! -d "$d/node_modules/@pulumi/pulumi" ]; then echo "no node_modules/@pulumi/pulumi above $PWD" >&2; exit 1; fi'
  write_shim pulumi-resource-pulumi-nodejs "$find_sdk
exec node \"\$d/node_modules/@pulumi/pulumi/cmd/dynamic-provider\" \"\$@\""
  write_shim pulumi-analyzer-policy "$find_sdk
exec node \"\$d/node_modules/@pulumi/pulumi/cmd/run-policy-pack\" \"\$@\""
  # The Go module of pulumi-language-nodejs is not served by the module proxy
  # reachable here, so stackyard ships its own language host (docs/engine.md).
  local host_js="dist/src/engine/language-host/main.js"
  # The service names its checkout (STACKYARD_PROJECT_ROOT); a laptop run finds it above $PWD.
  write_shim pulumi-language-nodejs "d=\"\${STACKYARD_PROJECT_ROOT:-\$PWD}\"; while [ \"\$d\" != \"/\" ] && [ ! -f \"\$d/$host_js\" ]; do d=\$(dirname \"\$d\"); done
[ -f \"\$d/$host_js\" ] || d=\"$root\"
exec node \"\$d/$host_js\" \"\$@\""
}

provision_cli
provision_shims
echo "$bin"
