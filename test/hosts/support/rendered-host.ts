import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { tempDir } from "../../support/temp-dir";

/**
 * A host as its user data would leave it: the files cloud-init writes, the packages it installs and
 * the commands it runs at first boot. Tests lay the files out under a scratch root and run the real
 * consumers (cloud-init, docker-compose, nginx, HAProxy, Caddy, systemd, bash, shellcheck) on them,
 * inside a private mount namespace where the scratch folders sit at their real paths, so a file is
 * read exactly where and as the host would read it.
 */
export interface HostFile {
  path: string;
  content: string;
  permissions: string;
}

export interface RenderedHost {
  /** The user data as given to the provider. */
  userData: string;
  packages: string[];
  files: HostFile[];
  runcmd: Array<string | string[]>;
}

/** What a consumer said: its exit code and everything it printed. */
export interface ConsumerResult {
  ok: boolean;
  output: string;
}

export function parseCloudConfig(userData: string): RenderedHost {
  if (!userData.startsWith("#cloud-config\n")) throw new Error("user data is not a #cloud-config document");
  const doc = (parse(userData) ?? {}) as {
    packages?: string[];
    write_files?: Array<{ path: string; content?: string; permissions?: string }>;
    runcmd?: Array<string | string[]>;
  };
  return {
    userData,
    packages: doc.packages ?? [],
    files: (doc.write_files ?? []).map((f) => ({
      path: f.path,
      content: f.content ?? "",
      permissions: f.permissions ?? "0644",
    })),
    runcmd: doc.runcmd ?? [],
  };
}

export function fileAt(host: RenderedHost, p: string): HostFile {
  const f = host.files.find((x) => x.path === p);
  if (!f) throw new Error(`the host writes no ${p} (it writes: ${host.files.map((x) => x.path).join(", ")})`);
  return f;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): ConsumerResult {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, input: opts.input, timeout: 60_000 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
}

/** `cloud-init schema`: the document is valid cloud-config for the cloud-init Debian ships. */
export function cloudInitSchema(userData: string): ConsumerResult {
  const t = tempDir("cloud-config");
  try {
    const f = path.join(t.dir, "user-data");
    fs.writeFileSync(f, userData);
    return run("cloud-init", ["schema", "-c", f]);
  } finally {
    t.remove();
  }
}

/** `bash -n` (or `sh -n` for /bin/sh scripts) and shellcheck at warning level. */
export function shellCheck(script: string): ConsumerResult {
  const shell = /^#!\s*\/bin\/sh\b/.test(script) ? "sh" : "bash";
  const syntax = run(shell, ["-n"], { input: script });
  if (!syntax.ok) return syntax;
  return run("shellcheck", ["-S", "warning", "-s", shell, "-"], { input: script });
}

/**
 * Runs `cmd` with the host's files in place: each of `roots` (e.g. `/opt/mastodon`,
 * `/etc/nginx/conf.d`) is the scratch copy of that folder, bind-mounted over the real path in a
 * mount namespace of its own (nothing outside the command sees it).
 */
export function withHostFiles(
  host: RenderedHost,
  roots: string[],
  cmd: string,
  args: string[],
  extraFiles: HostFile[] = [],
): ConsumerResult {
  const t = tempDir("host-root");
  try {
    for (const f of [...host.files, ...extraFiles]) {
      const at = path.join(t.dir, f.path);
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, f.content, { mode: parseInt(f.permissions, 8) });
    }
    const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const mounts = roots.map((r) => {
      const src = path.join(t.dir, r);
      fs.mkdirSync(src, { recursive: true });
      return `mkdir -p ${quote(r)} && mount --bind ${quote(src)} ${quote(r)}`;
    });
    const script = ["mount --make-rprivate /", ...mounts, `exec ${[cmd, ...args].map(quote).join(" ")}`].join(
      " && ",
    );
    return run("unshare", ["-m", "sh", "-c", script]);
  } finally {
    t.remove();
  }
}

/** Self-signed certificates at the paths certbot keeps on the host; test files only, made for `nginx -t`. */
export function selfSigned(hosts: string[]): HostFile[] {
  const t = tempDir("certs");
  try {
    return hosts.flatMap((h) => {
      const key = path.join(t.dir, `${h}.key`);
      const crt = path.join(t.dir, `${h}.crt`);
      const r = run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        `/CN=${h}`,
        "-keyout",
        key,
        "-out",
        crt,
      ]);
      if (!r.ok) throw new Error(`openssl: ${r.output}`);
      return [
        {
          path: `/etc/letsencrypt/live/${h}/fullchain.pem`,
          content: fs.readFileSync(crt, "utf8"),
          permissions: "0644",
        },
        {
          path: `/etc/letsencrypt/live/${h}/privkey.pem`,
          content: fs.readFileSync(key, "utf8"),
          permissions: "0600",
        },
      ];
    });
  } finally {
    t.remove();
  }
}

/** `docker-compose config -q` on a compose file the host holds (env files and volumes resolved in place). */
export function composeConfig(host: RenderedHost, file: string, roots: string[]): ConsumerResult {
  return withHostFiles(host, roots, "docker-compose", [
    "-f",
    file,
    "--project-directory",
    path.dirname(file),
    "config",
    "-q",
  ]);
}

/**
 * A compose file on its own (published to object storage and pulled by the host). `beside` are files
 * the host holds in the project directory next to it (e.g. an operator-held env file), by name.
 */
export function composeFileConfig(content: string, beside: Record<string, string> = {}): ConsumerResult {
  const t = tempDir("compose");
  try {
    const f = path.join(t.dir, "docker-compose.yml");
    fs.writeFileSync(f, content);
    for (const [name, text] of Object.entries(beside)) {
      const at = path.join(t.dir, name);
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, text, { mode: 0o600 });
    }
    return run("docker-compose", ["-f", f, "config", "-q"], { cwd: t.dir });
  } finally {
    t.remove();
  }
}

/** `haproxy -c` on a configuration the host holds. */
export function haproxyCheck(host: RenderedHost, file: string, roots: string[]): ConsumerResult {
  return withHostFiles(host, roots, "haproxy", ["-c", "-f", file]);
}

/** `nginx -t` on the host's main configuration (Debian's /etc/nginx with the rendered files in place). */
export function nginxTest(host: RenderedHost, roots: string[], extraFiles: HostFile[] = []): ConsumerResult {
  return withHostFiles(host, roots, "nginx", ["-t", "-q"], extraFiles);
}

/** `caddy validate` on a Caddyfile the host holds. */
export function caddyValidate(host: RenderedHost, file: string, roots: string[]): ConsumerResult {
  return withHostFiles(host, roots, "caddy", ["validate", "--adapter", "caddyfile", "--config", file]);
}

/**
 * What a Debian host has once cloud-init installed its `packages:` (the executables units and
 * scripts call), and what every Debian host has. Only these and the rendered files exist in the
 * root `systemd-analyze verify` reads, so a unit calling anything else fails as it would on the host.
 */
const BASE_SYSTEM = ["/bin/sh", "/bin/bash", "/usr/bin/env", "/usr/bin/systemctl", "/usr/bin/install"];
export const PACKAGE_EXECUTABLES: Record<string, string[]> = {
  "docker.io": ["/usr/bin/docker", "/usr/bin/dockerd"],
  "docker-compose-v2": ["/usr/libexec/docker/cli-plugins/docker-compose"],
  "docker-compose": ["/usr/bin/docker-compose"],
  curl: ["/usr/bin/curl"],
  jq: ["/usr/bin/jq"],
  awscli: ["/usr/bin/aws"],
  s3cmd: ["/usr/bin/s3cmd"],
  "redis-server": ["/usr/bin/redis-server"],
  "redis-tools": ["/usr/bin/redis-cli"],
  postgresql: ["/usr/bin/pg_ctlcluster", "/usr/bin/psql", "/usr/bin/pg_basebackup"],
  "postgresql-client": ["/usr/bin/psql", "/usr/bin/pg_dump", "/usr/bin/pg_basebackup"],
  nginx: ["/usr/sbin/nginx"],
  "nginx-light": ["/usr/sbin/nginx"],
  haproxy: ["/usr/sbin/haproxy"],
  caddy: ["/usr/bin/caddy"],
  rclone: ["/usr/bin/rclone"],
};

/** `systemd-analyze verify` on units the host holds, with the host's files (and packages) as the root. */
export function systemdVerify(host: RenderedHost, units: string[]): ConsumerResult {
  const t = tempDir("systemd-root");
  try {
    const installed = [...BASE_SYSTEM, ...host.packages.flatMap((p) => PACKAGE_EXECUTABLES[p] ?? [])];
    for (const exe of installed) {
      const at = path.join(t.dir, exe);
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, "#!/bin/sh\n", { mode: 0o755 });
    }
    // The distribution's own units (targets, timers.target, network-online.target, docker.service's peers).
    fs.cpSync("/usr/lib/systemd/system", path.join(t.dir, "usr/lib/systemd/system"), { recursive: true });
    for (const f of host.files) {
      const at = path.join(t.dir, f.path);
      fs.mkdirSync(path.dirname(at), { recursive: true });
      fs.writeFileSync(at, f.content, { mode: parseInt(f.permissions, 8) });
    }
    return run("systemd-analyze", ["verify", "--man=no", `--root=${t.dir}`, ...units]);
  } finally {
    t.remove();
  }
}
