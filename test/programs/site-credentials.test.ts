import * as assert from "node:assert/strict";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import { SITES } from "../../src/programs/sites";
import { loadStackFile, SITE_IDS, type SiteId } from "../../src/programs/site-config";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { cloudResources, runSite } from "./support/harness";
import { siteProgram } from "../../src/programs/program";
import * as pulumi from "@pulumi/pulumi";

const load = (site: SiteId) => loadStackFile(path.join(projectRoot, "stacks", `Pulumi.${site}.yaml`));

/** Every value of every site's sandbox credentials: none may appear in an error message. */
const allValues = SITE_IDS.flatMap((s) =>
  Object.values(sandboxSiteCredentials(s)).flatMap((fields) => Object.values(fields)),
);

describe("per-site credentials: each site's resources go through its own providers", () => {
  for (const site of SITE_IDS) {
    it(`${site}: one explicit provider per cloud it declares, configured from its stack's credentials, and no resource on a default provider`, async () => {
      const run = await runSite(load(site));
      const clouds = Object.keys(SITES[site].clouds).sort();
      const providers = [...run.resources.values()].filter(
        (r) => r.type.startsWith("pulumi:providers:") && r.name.startsWith(`${site}-`),
      );
      assert.deepEqual(providers.map((p) => p.name).sort(), clouds.map((c) => `${site}-${c}`).sort());
      const creds = sandboxSiteCredentials(site);
      for (const p of providers) {
        const cloud = p.type.slice("pulumi:providers:".length);
        for (const [field, value] of Object.entries(creds[`credentials:${cloud}`]!))
          assert.deepEqual(
            p.inputs[field],
            { [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value },
            `${p.name}.${field} is credentials:${cloud}.${field}, as a secret`,
          );
      }
      const explicit = new Set(clouds.map((c) => `pulumi:providers:${c}::${site}-${c}`));
      // datafruits' Kubernetes provider is explicit too: built from the cluster's own kubeconfig.
      if (site === "datafruits") explicit.add("pulumi:providers:kubernetes::doks");
      const resources = cloudResources(run);
      assert.ok(resources.length > 3);
      for (const r of resources) {
        assert.ok(r.provider, `${r.type}::${r.name} uses a default provider`);
        // `urn:pulumi:<stack>::<project>::<parent types>$pulumi:providers:<pkg>::<name>::<id>`
        const [, , type, name] = r.provider.split("::");
        const ref = `${type!.split("$").pop()}::${name}`;
        assert.ok(
          explicit.has(ref),
          `${r.type}::${r.name} uses ${ref}, not one of ${[...explicit].join(", ")}`,
        );
      }
    });
  }

  it("a stack without credentials fails, naming the key and how to set it, never a value", async () => {
    await assert.rejects(runSite(load("theatl"), { credentials: false }), (err: Error) => {
      assert.match(err.message, /credentials:digitalocean: missing/);
      assert.match(err.message, /pulumi config set --secret --path credentials:digitalocean\.token/);
      return true;
    });
  });

  it("a missing object-storage key, an unknown field and an empty value are each named by field, without the values", async () => {
    const config = load("theatl");
    const good = sandboxSiteCredentials("theatl");
    const run = async (digitalocean: Record<string, string>) => {
      const { "credentials:digitalocean": _omit, ...rest } = good;
      void _omit;
      const json = { ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, JSON.stringify(v)])) };
      const raw = { ...json, "credentials:digitalocean": JSON.stringify(digitalocean) };
      pulumi.runtime.setAllConfig(raw, Object.keys(raw));
      return siteProgram(config);
    };
    const { spacesSecretKey: _s, ...noSecret } = good["credentials:digitalocean"]!;
    void _s;
    await assert.rejects(
      run(noSecret),
      /credentials:digitalocean\.spacesSecretKey: missing: the site keeps objects/,
    );
    await assert.rejects(
      run({ ...good["credentials:digitalocean"]!, apiToken: "sandbox-typo" }),
      /credentials:digitalocean\.apiToken: unknown field \(known: token, spacesAccessId, spacesSecretKey\)/,
    );
    await assert.rejects(run({ ...good["credentials:digitalocean"]!, token: "" }), (err: Error) => {
      assert.match(err.message, /credentials:digitalocean\.token: must not be empty/);
      for (const v of allValues) assert.ok(!err.message.includes(v), "no credential value in the message");
      return true;
    });
  });

  it("no two sites share a credential value (each is its own organisation)", () => {
    assert.equal(new Set(allValues).size, allValues.length);
  });
});
