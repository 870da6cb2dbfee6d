import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_ALLOWED_SIZES, DEFAULT_RESOURCE_CEILINGS } from "../../src/policy/policy-defaults";
import { SettingsFileError } from "../../src/infra/settings-file";
import { loadPolicyOverrides, packConfigFor } from "../../src/policy/policy-settings";
import { ConfigError, loadServiceConfig } from "../../src/service/config";
import { tempDir } from "../support/temp-dir";

/** STACKYARD_POLICY_FILE: per-site sizes and ceilings for the pack, the same for the service and the laptop. */
describe("policy pack settings per site", () => {
  const tmp = tempDir("policy-settings");
  after(() => tmp.remove());
  const write = (name: string, body: string) => {
    const file = path.join(tmp.dir, name);
    fs.writeFileSync(file, body);
    return file;
  };

  it("uses the pack's defaults for a site the file does not name", () => {
    const cfg = packConfigFor("vulpine", {}, []);
    assert.deepEqual(cfg["sizes-from-allow-list"], { sizes: DEFAULT_ALLOWED_SIZES });
    assert.deepEqual((cfg["resource-count-ceiling"] as any).ceilings, DEFAULT_RESOURCE_CEILINGS);
    assert.deepEqual(cfg["stateful-resources-protected"], { allowUnprotected: [] });
  });

  it("replaces the sizes and the ceiling of the named site only, and carries the operation's declared deletions", () => {
    const overrides = loadPolicyOverrides(
      write(
        "ok.json",
        JSON.stringify({
          theatl: { sizes: { "digitalocean-droplet": ["s-2vcpu-4gb"] }, resourceCeiling: 70 },
        }),
      ),
    );
    const cfg = packConfigFor("theatl", overrides, ["pg-c"]);
    assert.deepEqual(cfg["sizes-from-allow-list"], { sizes: { "digitalocean-droplet": ["s-2vcpu-4gb"] } });
    assert.equal((cfg["resource-count-ceiling"] as any).ceilings.theatl, 70);
    assert.equal((cfg["resource-count-ceiling"] as any).ceilings.insync, DEFAULT_RESOURCE_CEILINGS.insync);
    assert.deepEqual(cfg["stateful-resources-protected"], { allowUnprotected: ["pg-c"] });
    assert.deepEqual(packConfigFor("insync", overrides)["sizes-from-allow-list"], {
      sizes: DEFAULT_ALLOWED_SIZES,
    });
  });

  it("refuses a bad file naming the key: unknown site, unknown catalogue, a ceiling of 0, a misspelled setting", () => {
    const bad: [unknown, RegExp][] = [
      [{ mastodon: {} }, /mastodon/],
      [
        { theatl: { sizes: { "digitalocean-dropplet": ["s-1vcpu-1gb"] } } },
        /theatl\.sizes: .*"digitalocean-dropplet"/,
      ],
      [{ theatl: { resourceCeiling: 0 } }, /theatl\.resourceCeiling/],
      [{ theatl: { ceiling: 10 } }, /theatl: .*ceiling/],
    ];
    for (const [body, key] of bad) {
      assert.throws(
        () => loadPolicyOverrides(write("bad.json", JSON.stringify(body))),
        (e: Error) => e instanceof SettingsFileError && key.test(e.message),
      );
    }
    assert.throws(
      () => loadPolicyOverrides(write("bad.json", "{ not json")),
      /STACKYARD_POLICY_FILE .*bad\.json: not valid JSON$/,
    );
  });

  it("stops the service at start-up on a bad file, naming the variable", () => {
    const file = write("svc.json", JSON.stringify({ theatl: { resourceCeiling: -1 } }));
    assert.throws(
      () => loadServiceConfig({ STACKYARD_TOKENS: "[]", STACKYARD_POLICY_FILE: file }),
      (e: Error) =>
        e instanceof ConfigError && /^STACKYARD_POLICY_FILE .*theatl\.resourceCeiling/.test(e.message),
    );
  });
});
