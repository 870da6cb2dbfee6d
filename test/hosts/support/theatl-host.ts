import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { reveal } from "../../../src/sandbox/property-values";
import type { Run } from "../../programs/support/harness";
import { tempDir } from "../../support/temp-dir";
import { parseCloudConfig, type HostFile, type RenderedHost } from "./rendered-host";

const DROPLET = "digitalocean:index/droplet:Droplet";
const OBJECT = "digitalocean:index/spacesBucketObject:SpacesBucketObject";

/** A theATL droplet as it stands after its deploy unit ran: boot files plus the family's pulled files. */
export interface TheatlHost {
  droplet: string;
  tags: string[];
  host: RenderedHost;
  /** The deploy bucket's files of the droplet's family, at their place under /opt/mastodon. */
  pulled: HostFile[];
}

/** One variable of an env file (`KEY=value` lines, as host.env is written). */
export function envValue(env: string, key: string): string {
  const line = env.split("\n").find((l) => l.startsWith(`${key}=`));
  if (line === undefined) throw new Error(`no ${key} in env file`);
  return line.slice(key.length + 1);
}

/** The deploy bucket's objects of one family, keyed by their path under `<family>/`. */
export function publishedOf(run: Run, family: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of run.resources.values())
    if (r.type === OBJECT && String(r.inputs.key).startsWith(`${family}/`))
      out[String(r.inputs.key).slice(family.length + 1)] = reveal(r.inputs.content) as string;
  return out;
}

export function theatlHost(run: Run, droplet: string): TheatlHost {
  const d = run.resources.get(`${DROPLET}::${droplet}`);
  if (!d) throw new Error(`no droplet ${droplet}`);
  const host = parseCloudConfig(reveal(d.inputs.userData) as string);
  const family = /^FAMILY=(.*)$/m.exec(
    host.files.find((f) => f.path === "/etc/stackyard/deploy.conf")!.content,
  )![1]!;
  const pulled = Object.entries(publishedOf(run, family)).map(([p, content]) => ({
    path: `/opt/mastodon/${p}`,
    content,
    permissions: "0644",
  }));
  return { droplet, tags: d.inputs.tags, host, pulled };
}

/** Runs a host script as the deploy unit would, with the droplet's tags served as the metadata service. */
export function runWithTags(
  script: string,
  tags: string[],
  env: Record<string, string> = {},
): { ok: boolean; stdout: string; stderr: string } {
  const t = tempDir("tags");
  try {
    fs.writeFileSync(path.join(t.dir, "tags"), tags.join("\n") + "\n");
    const r = spawnSync("bash", ["-c", script], {
      encoding: "utf8",
      env: { ...process.env, METADATA_URL: `file://${t.dir}`, ...env },
      timeout: 30_000,
    });
    return { ok: r.status === 0, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  } finally {
    t.remove();
  }
}

/**
 * `docker-compose config` on a compose file with the .env the deploy unit writes beside it (host.env
 * then role.env), parsed as compose resolved it.
 */
export function resolvedCompose(
  compose: string,
  dotEnv: string,
): { ok: boolean; output: string; doc?: { services: Record<string, any> } } {
  const t = tempDir("compose-env");
  try {
    fs.writeFileSync(path.join(t.dir, "docker-compose.yml"), compose);
    fs.writeFileSync(path.join(t.dir, ".env"), dotEnv);
    const r = spawnSync("docker-compose", ["-f", "docker-compose.yml", "config"], {
      cwd: t.dir,
      encoding: "utf8",
      timeout: 60_000,
    });
    const ok = r.status === 0;
    return { ok, output: `${r.stdout}${r.stderr}`, doc: ok ? parse(r.stdout) : undefined };
  } finally {
    t.remove();
  }
}
