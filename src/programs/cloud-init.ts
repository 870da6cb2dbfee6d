/**
 * Cloud-init for docker-compose hosts. The text depends only on the host's role family, never on
 * a knob: changing `userData` replaces a droplet, so a sidekiq scale-out or a failover must not
 * touch it. Hosts learn their current role (pg-primary vs standby, their sidekiq queues) at run
 * time from their own tags via the provider's metadata service, which the program updates in place.
 */
export interface CloudInitArgs {
  site: string;
  /** Role family, e.g. "sidekiq", "postgres". */
  family: string;
  /** Extra shell lines run once at first boot. */
  runcmd?: string[];
  /**
   * Files written at first boot (static per role family). `defer` writes the file after packages
   * are installed (a file inside a package's config folder); `append` adds to a package's file.
   */
  files?: { path: string; content: string; permissions?: string; defer?: boolean; append?: boolean }[];
  /** Debian packages installed besides docker, jq and curl. @defaultValue none */
  packages?: string[];
  /**
   * The package that provides compose. Debian 12 has no `docker-compose-v2` (an Ubuntu package);
   * its `docker-compose` (v1, /usr/bin/docker-compose) is the one that installs there.
   * @defaultValue "docker-compose-v2"
   */
  composePackage?: "docker-compose-v2" | "docker-compose";
}

export function cloudInit(args: CloudInitArgs): string {
  const lines = [
    "#cloud-config",
    `# stackyard: ${args.site} ${args.family} host`,
    "package_update: true",
    `packages: [${["docker.io", args.composePackage ?? "docker-compose-v2", "jq", "curl", ...(args.packages ?? [])].join(", ")}]`,
  ];
  const files = args.files ?? [];
  if (files.length > 0) {
    lines.push("write_files:");
    for (const f of files) {
      lines.push(`  - path: ${f.path}`, `    permissions: "${f.permissions ?? "0644"}"`);
      if (f.defer) lines.push("    defer: true");
      if (f.append) lines.push("    append: true");
      lines.push("    content: |");
      for (const l of f.content.split("\n")) lines.push(`      ${l}`);
    }
  }
  lines.push("runcmd:", "  - [systemctl, enable, --now, docker]");
  for (const c of args.runcmd ?? []) lines.push(`  - ${JSON.stringify(c)}`);
  return lines.join("\n") + "\n";
}

/** DigitalOcean: a host reads its own tags from the metadata service to find its current role. */
export const DO_ROLE_FROM_TAGS = [
  "#!/bin/sh",
  "# Prints this droplet's tags, one per line; role units select on role:* and sidekiq-q:* tags.",
  "curl -fsS http://169.254.169.254/metadata/v1/tags",
].join("\n");
