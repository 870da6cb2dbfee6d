import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { programFromStackConfig, siteProgram } from "../../src/programs/program";
import {
  loadStackFile,
  parseSiteConfig,
  SiteConfigError,
  SITE_IDS,
  type SiteId,
} from "../../src/programs/site-config";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { configFor, rawConfig, setSpec, stackFile } from "./support/fixtures";
import { installMocks } from "./support/harness";

/** Puts a raw stackyard config where `new pulumi.Config("stackyard")` reads it, as the engine would. */
/** A stack's config as the engine hands it to the program: its `stackyard:*` keys and its site's credentials. */
function setStackConfig(raw: Record<string, unknown>): void {
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw))
    flat[`stackyard:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  const site = raw.site as SiteId;
  const secrets = SITE_IDS.includes(site) ? sandboxSiteCredentials(site) : {};
  for (const [k, v] of Object.entries(secrets)) flat[k] = JSON.stringify(v);
  pulumi.runtime.setAllConfig(flat, Object.keys(secrets));
}

function throwsConfig(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SiteConfigError, `expected SiteConfigError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("site config", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  it("accepts every committed stack file", () => {
    for (const site of SITE_IDS) assert.equal(loadStackFile(stackFile(site)).site, site);
  });

  it("rejects an unknown site, naming the key and the value", () => {
    throwsConfig(
      () => parseSiteConfig({ site: "mastodon-social", configRevision: 0, spec: {} }),
      /^stackyard:site: unknown site.*got "mastodon-social"$/,
    );
  });

  it("rejects a negative sidekiq count with the full key path and the value", () => {
    const raw = setSpec(rawConfig("theatl"), "sidekiq.pools.main.count", -2);
    throwsConfig(
      () => parseSiteConfig(raw),
      /^stackyard:spec\.sidekiq\.pools\.main\.count: expected >= 0, got -2$/,
    );
  });

  it("rejects a negative config revision", () => {
    const raw = { ...rawConfig("vulpine"), configRevision: -1 };
    throwsConfig(() => parseSiteConfig(raw), /^stackyard:configRevision: expected >= 0, got -1$/);
  });

  it("reads a revision the CLI wrote back as a string of digits, and refuses other strings", () => {
    assert.equal(parseSiteConfig({ ...rawConfig("vulpine"), configRevision: "7" }).configRevision, 7);
    throwsConfig(
      () => parseSiteConfig({ ...rawConfig("vulpine"), configRevision: "seven" }),
      /^stackyard:configRevision: /,
    );
  });

  it("rejects replicas of a nonexistent primary (theATL PostgreSQL)", () => {
    const raw = setSpec(rawConfig("theatl"), "postgres.primary", "pg-z");
    throwsConfig(
      () => parseSiteConfig(raw),
      /^stackyard:spec\.postgres\.primary: primary "pg-z" is not a declared node.*got "pg-z"$/,
    );
  });

  it("rejects replicas of a nonexistent primary (Insync MySQL) and unknown replica nodes", () => {
    throwsConfig(
      () => parseSiteConfig(setSpec(rawConfig("insync"), "mysql.primary", "db-master")),
      /stackyard:spec\.mysql\.primary: .*"db-master"/,
    );
    throwsConfig(
      () => parseSiteConfig(setSpec(rawConfig("insync"), "mysql.replicas", ["db-slave03"])),
      /stackyard:spec\.mysql\.replicas\[0\]: replica "db-slave03"/,
    );
  });

  it("rejects a datafruits primary that is neither the cluster nor a replica", () => {
    throwsConfig(
      () => parseSiteConfig(setSpec(rawConfig("datafruits"), "database.primary", "old-pg")),
      /stackyard:spec\.database\.primary: .*got "old-pg"/,
    );
  });

  it("refuses the scheduler queue in a scalable pool", () => {
    const raw = setSpec(rawConfig("vulpine"), "sidekiq.pools.main.queues", [
      "default",
      "push",
      "ingress",
      "mailers",
      "pull",
      "scheduler",
    ]);
    throwsConfig(
      () => parseSiteConfig(raw),
      /stackyard:spec\.sidekiq\.pools\.main\.queues: "scheduler" must run in exactly one process/,
    );
  });

  it("accepts a paused pool (count 0) that lists scheduler, and does not count its queues as covered", () => {
    const all = ["default", "push", "ingress", "mailers", "pull", "scheduler"];
    const paused = setSpec(rawConfig("vulpine"), "sidekiq.pools.catchup", {
      count: 0,
      threads: 5,
      queues: all,
    });
    assert.equal((parseSiteConfig(paused).spec as any).sidekiq.pools.catchup.count, 0);
    const running = setSpec(paused, "sidekiq.pools.catchup.count", 1);
    throwsConfig(
      () => parseSiteConfig(running),
      /stackyard:spec\.sidekiq\.pools\.catchup\.queues: "scheduler" must run in exactly one process/,
    );
    const mainPaused = setSpec(rawConfig("vulpine"), "sidekiq.pools.main.count", 0);
    throwsConfig(
      () => parseSiteConfig(mainPaused),
      /no process listens on queue\(s\) default, push, ingress, mailers, pull/,
    );
  });

  it("refuses a misspelled knob instead of ignoring it", () => {
    const raw = setSpec(rawConfig("chitter"), "sidekiq.pools.main.cuont", 3);
    throwsConfig(() => parseSiteConfig(raw), /stackyard:spec\.sidekiq\.pools\.main\.cuont: unknown key/);
  });

  it("names the file when the stack YAML is malformed", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackyard-cfg-"));
    const file = path.join(dir, "Pulumi.theatl.yaml");
    fs.writeFileSync(file, "config:\n  stackyard:site: theatl\n   stackyard:spec: [unclosed\n");
    try {
      throwsConfig(
        () => loadStackFile(file),
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: malformed YAML: `),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails before registering any resource when the stack config is bad", async () => {
    for (const raw of [
      { site: "nope", configRevision: 0, spec: {} },
      setSpec(rawConfig("theatl"), "sidekiq.pools.main.count", -2),
      setSpec(rawConfig("theatl"), "postgres.primary", "pg-z"),
    ]) {
      const rec = installMocks("theatl");
      setStackConfig(raw);
      await assert.rejects(programFromStackConfig()(), SiteConfigError);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(rec.size, 0, `registered ${[...rec.keys()].join(", ")}`);
    }
  });

  it("reports a spec that is not structured config against stackyard:spec", async () => {
    installMocks("theatl");
    pulumi.runtime.setAllConfig({
      "stackyard:site": "theatl",
      "stackyard:configRevision": "0",
      "stackyard:spec": "not json",
    });
    await assert.rejects(
      programFromStackConfig()(),
      /^SiteConfigError: stackyard:spec: expected a structured object/,
    );
  });

  it("registers the same resources from stack config (laptop path) as from the parsed file (inline path)", async () => {
    const fromConfig = installMocks("theatl");
    setStackConfig(rawConfig("theatl"));
    const viaConfig = await programFromStackConfig()();
    await new Promise((r) => setTimeout(r, 50));
    const a = [...fromConfig.keys()].sort();
    const fromFile = installMocks("theatl");
    await siteProgram(configFor("theatl"));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(a, [...fromFile.keys()].sort());
    assert.equal((viaConfig as Record<string, unknown>).site, "theatl");
  });
});
