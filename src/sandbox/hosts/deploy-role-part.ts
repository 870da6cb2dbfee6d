/**
 * The part of a host's deploy script (theATL's DEPLOY_SCRIPT) that runs the role hook, writes .env
 * and converges compose, unmodified: a rehearsed host has no bucket to sync from (the fleet lays the
 * published files out itself) and no systemd to install timers into.
 */
export function deployRolePart(deploy: string): string {
  const lines = deploy.split("\n");
  const from = lines.indexOf('role_env=""');
  const to = lines.indexOf('mv "$dir/.env.next" "$dir/.env"');
  const cd = lines.indexOf('cd "$dir"');
  if (from < 0 || to < from || cd < to || !lines.includes("dir=/opt/mastodon"))
    throw new Error("the deploy script's role part is not where it was");
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "dir=/opt/mastodon",
    ...lines.slice(from, to + 1),
    ...lines.slice(cd),
  ].join("\n");
}
