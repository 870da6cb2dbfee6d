import * as assert from "node:assert/strict";
import * as path from "node:path";
import { StackSession } from "../../src/engine/stack-session";
import { projectRoot } from "../../src/infra/paths";
import { programFromStackConfig } from "../../src/programs/program";
import { loadStackFile } from "../../src/programs/site-config";
import { seedAdoptedResources } from "../../src/sandbox/adopted-resources";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { prepareSandboxWorkspace } from "../../src/service/sandbox-workspace";
import { LaptopCheckout, laptopCheckout } from "../support/laptop-checkout";
import { tempDir } from "../support/temp-dir";

const SITES = ["vulpine", "chitter", "theatl", "insync", "datafruits"] as const;
/**
 * The program's own registrations. Left out: the laptop entry's revision guard (a read of the
 * stack's own outputs) and the engine's default providers, which `preview --json` does not list
 * as steps. Explicit providers (datafruits' `doks` Kubernetes provider) are compared.
 */
const isSiteResource = (urn: string) =>
  !urn.includes("::pulumi:pulumi:StackReference::") && !/::pulumi:providers:[^:]+::default_/.test(urn);

/**
 * The same program from both doors, through the real engine: `pulumi preview` on Pulumi.yaml +
 * stacks/ (an operator's laptop) and the Automation API's inline program (the service).
 */
describe("laptop path and inline path register the same resources", function () {
  this.timeout(600_000);
  let laptop: LaptopCheckout;
  let inline: ReturnType<typeof tempDir>;

  before(async () => {
    laptop = await laptopCheckout("parity-laptop");
    inline = tempDir("parity-inline");
    prepareSandboxWorkspace(path.join(inline.dir, "workspace"), projectRoot);
    await installSandboxPlugins(path.join(inline.dir, "home"));
    const insync = loadStackFile(path.join(projectRoot, "stacks", "Pulumi.insync.yaml"));
    seedAdoptedResources(laptop.cloud, insync);
    seedAdoptedResources(new SandboxCloud(path.join(inline.dir, "cloud")), insync);
  });

  after(() => {
    laptop?.remove();
    inline?.remove();
  });

  for (const site of SITES) {
    it(`${site}: the same URNs from pulumi preview and from the inline preview`, async () => {
      assert.equal(laptop.initSite(site).code, 0);
      const fromLaptop = laptop.pulumi("preview", "--json", "-s", site);
      assert.equal(fromLaptop.code, 0, fromLaptop.out);
      const json = JSON.parse(fromLaptop.out.slice(fromLaptop.out.indexOf("{"))) as {
        steps: Array<{ urn: string }>;
      };
      const laptopUrns = json.steps
        .map((s) => s.urn)
        .filter(isSiteResource)
        .sort();

      const session = await StackSession.open(
        {
          projectName: "stackyard",
          stackName: site,
          workDir: path.join(inline.dir, "workspace"),
          program: programFromStackConfig(),
        },
        {
          stateDir: path.join(inline.dir, "state"),
          passphrase: "parity",
          pulumiHome: path.join(inline.dir, "home"),
          env: { STACKYARD_SANDBOX_DIR: path.join(inline.dir, "cloud") },
          seedSecretConfig: sandboxSiteCredentials(site),
        },
      );
      const inlineUrns: string[] = [];
      await session.preview({
        onEvent: (e) => e.resourcePreEvent && inlineUrns.push(e.resourcePreEvent.metadata.urn),
      });
      inlineUrns.sort();

      assert.ok(laptopUrns.length > 5, `${site}: ${laptopUrns.length} resources`);
      assert.deepEqual(laptopUrns, [...new Set(inlineUrns)].filter(isSiteResource));
    });
  }
});
