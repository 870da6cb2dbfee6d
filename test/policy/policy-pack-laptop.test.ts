import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import { LaptopCheckout, laptopCheckout } from "../support/laptop-checkout";

const POLICY_PACK = path.join(projectRoot, "policy-pack");
const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"] as const;

/** An operator's laptop: `pulumi preview -s <site> --policy-pack policy-pack` on the committed stacks/. */
describe("policy pack on the laptop path", function () {
  this.timeout(300_000);
  let laptop: LaptopCheckout;

  before(async () => {
    laptop = await laptopCheckout("policy-laptop");
    // insync adopts a backup bucket that predates the program: it exists in the (simulated) account.
    laptop.cloud.seedExisting("aws:s3/bucket:Bucket", "insync_db_backups", {
      bucket: "insync_db_backups",
      region: "us-east-1",
    });
    for (const site of SITES) {
      const init = laptop.initSite(site);
      assert.equal(init.code, 0, init.out);
    }
  });

  after(() => laptop?.remove());

  for (const site of SITES) {
    it(`passes ${site}'s program as committed`, () => {
      const preview = laptop.pulumi("preview", "-s", site, "--policy-pack", POLICY_PACK);
      assert.equal(preview.code, 0, preview.out);
      assert.match(preview.out, /Policies:[\s\S]*stackyard@v0\.1\.0/);
    });
  }

  it("takes the service's per-site policy file through `stackyard policy-config`: theATL's default passes, a narrowed size list fails", () => {
    const config = (policy: object | undefined) => {
      const env = { ...process.env };
      delete env.STACKYARD_POLICY_FILE;
      if (policy) {
        env.STACKYARD_POLICY_FILE = path.join(laptop.dir, "policy.json");
        fs.writeFileSync(env.STACKYARD_POLICY_FILE, JSON.stringify(policy));
      }
      const file = path.join(laptop.dir, "pack-config.json");
      fs.writeFileSync(
        file,
        execFileSync(path.join(projectRoot, "bin", "stackyard"), ["policy-config", "theatl"], {
          env,
          encoding: "utf8",
        }),
      );
      return file;
    };
    const ok = laptop.pulumi(
      "preview",
      "-s",
      "theatl",
      "--policy-pack",
      POLICY_PACK,
      "--policy-pack-config",
      config(undefined),
    );
    assert.equal(ok.code, 0, ok.out);
    const narrowed = config({
      theatl: { sizes: { "digitalocean-droplet": ["s-2vcpu-4gb", "s-4vcpu-8gb"] } },
    });
    const refused = laptop.pulumi(
      "preview",
      "-s",
      "theatl",
      "--policy-pack",
      POLICY_PACK,
      "--policy-pack-config",
      narrowed,
    );
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /sizes-from-allow-list/);
    assert.match(
      refused.out,
      /asks for digitalocean-droplet size s-1vcpu-2gb \(limit: one of s-2vcpu-4gb, s-4vcpu-8gb\)/,
    );
  });

  it("fails when the stack config opens PostgreSQL to the internet, naming the rule, value and limit", () => {
    laptop.setStackValue("theatl", ["stackyard:spec", "postgres", "clientCidrs"], ["0.0.0.0/0"]);
    const preview = laptop.pulumi("preview", "-s", "theatl", "--policy-pack", POLICY_PACK);
    assert.notEqual(preview.code, 0);
    assert.match(preview.out, /data-plane-private-only/);
    assert.match(preview.out, /opens PostgreSQL port 5432 to 0\.0\.0\.0\/0 \(limit: private network only\)/);
  });
});
