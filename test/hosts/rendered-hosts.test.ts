import assert from "node:assert/strict";
import { parse } from "yaml";
import { SITE_IDS } from "../../src/programs/sites";
import { reveal } from "../../src/sandbox/property-values";
import { runSite, type Recorded, type Run } from "../programs/support/harness";
import { configFor } from "../programs/support/fixtures";
import {
  cloudInitSchema,
  composeConfig,
  composeFileConfig,
  parseCloudConfig,
  shellCheck,
  systemdVerify,
  type RenderedHost,
} from "./support/rendered-host";

/** The user data a machine resource boots with, whichever provider spells it how (a secret is unwrapped). */
function userDataOf(r: Recorded): string | undefined {
  const userData = reveal(r.inputs.userData);
  if (typeof userData === "string") return userData;
  const linode = (r.inputs.metadatas as Array<{ userData?: string }> | undefined)?.[0]?.userData;
  return linode ? Buffer.from(linode, "base64").toString("utf8") : undefined;
}

export function renderedHosts(run: Run): Array<{ name: string; host: RenderedHost }> {
  return [...run.resources.values()]
    .map((r) => ({ name: r.name, userData: userDataOf(r) }))
    .filter((x): x is { name: string; userData: string } => x.userData !== undefined)
    .map(({ name, userData }) => ({ name, host: parseCloudConfig(userData) }));
}

/** Compose files the programs publish to object storage for a host to pull. */
function publishedComposeFiles(run: Run): Array<{ name: string; content: string }> {
  return [...run.resources.values()]
    .filter((r) => typeof r.inputs.content === "string" && /^services:/m.test(r.inputs.content))
    .map((r) => ({ name: r.name, content: r.inputs.content as string }));
}

/**
 * Env files a published compose file names: they hold the site's secrets and are the operator's,
 * on the host, never rendered. Compose only needs them to exist here; each site's own host tests
 * check the variables they carry in place.
 */
function operatorEnvFiles(content: string): Record<string, string> {
  const doc = (parse(content) ?? {}) as { services?: Record<string, { env_file?: string | string[] }> };
  const names = Object.values(doc.services ?? {}).flatMap((s) => [s.env_file ?? []].flat());
  return Object.fromEntries(names.map((n) => [n, "# operator-held secrets (placeholder for the check)\n"]));
}

describe("what the programs render for their hosts, read by the programs that consume it", function () {
  this.timeout(300_000);
  const runs = new Map<string, Run>();
  before(async () => {
    for (const site of SITE_IDS) runs.set(site, await runSite(configFor(site)));
  });

  it("passes `cloud-init schema` for every machine's user data", () => {
    let checked = 0;
    for (const [site, run] of runs) {
      for (const { name, host } of renderedHosts(run)) {
        const r = cloudInitSchema(host.userData);
        assert.ok(r.ok, `${site}/${name}: ${r.output}`);
        checked++;
      }
    }
    assert.ok(checked > 0, "no user data rendered at all");
  });

  it("passes `bash -n` / `sh -n` and shellcheck for every script a host is given", () => {
    for (const [site, run] of runs) {
      for (const { name, host } of renderedHosts(run)) {
        for (const f of host.files.filter((x) => x.content.startsWith("#!"))) {
          const r = shellCheck(f.content);
          assert.ok(r.ok, `${site}/${name}:${f.path}: ${r.output}`);
        }
      }
    }
  });

  it("passes `docker-compose config` for every compose file, on the host and published", () => {
    let checked = 0;
    for (const [site, run] of runs) {
      for (const { name, host } of renderedHosts(run)) {
        for (const f of host.files.filter((x) => /docker-compose\.ya?ml$/.test(x.path))) {
          const dir = f.path.slice(0, f.path.lastIndexOf("/"));
          const r = composeConfig(host, f.path, [dir]);
          assert.ok(r.ok, `${site}/${name}:${f.path}: ${r.output}`);
          checked++;
        }
      }
      for (const c of publishedComposeFiles(run)) {
        const r = composeFileConfig(c.content, operatorEnvFiles(c.content));
        assert.ok(r.ok, `${site}/${c.name}: ${r.output}`);
        checked++;
      }
    }
    assert.ok(checked > 0, "no compose file rendered at all");
  });

  it("passes `systemd-analyze verify` for every unit a host is given", () => {
    for (const [site, run] of runs) {
      for (const { name, host } of renderedHosts(run)) {
        const units = host.files.filter((f) => /\.(service|timer|path)$/.test(f.path)).map((f) => f.path);
        if (units.length === 0) continue;
        const r = systemdVerify(host, units);
        assert.ok(r.ok, `${site}/${name}: ${r.output}`);
      }
    }
  });
});

describe("the consumers themselves refuse what a host could not use", () => {
  it("cloud-init, compose, shell and systemd each fail on a broken file", () => {
    assert.equal(cloudInitSchema("#cloud-config\npackages: 3\n").ok, false);
    assert.equal(shellCheck("#!/bin/sh\nif true; then\n").ok, false);
    assert.equal(
      shellCheck("#!/bin/bash\nrm -rf $DIR/*\n").ok,
      false,
      "shellcheck warns on unquoted expansions",
    );
    assert.equal(
      composeFileConfig("services:\n  web:\n    restart: always\n").ok,
      false,
      "a service with no image",
    );
    const host = parseCloudConfig(
      "#cloud-config\nwrite_files:\n  - path: /etc/systemd/system/x.service\n    content: |\n      [Service]\n      ExecStart=relative-path\n",
    );
    assert.equal(systemdVerify(host, ["/etc/systemd/system/x.service"]).ok, false);
  });
});
