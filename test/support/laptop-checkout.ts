import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { engineEnv } from "../../src/engine/engine-env";
import type { StateBackend } from "../../src/engine/state-backend";
import { engineBinDir, projectRoot } from "../../src/infra/paths";
import { installSandboxPlugins } from "../../src/sandbox/install-plugins";
import type { SiteId } from "../../src/programs/site-config";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";
import { tempDir } from "./temp-dir";

/**
 * An operator's laptop in a temp folder: a copy of the checkout's Pulumi.yaml and stacks/ (with
 * node_modules and dist/ linked), the pinned CLI, a file:// backend (or the one it is given) and
 * the sandbox's simulated providers. `pulumi(...)` runs the real CLI there, as an operator would.
 */
export interface LaptopCheckout {
  dir: string;
  cloud: SandboxCloud;
  pulumi(...args: string[]): { code: number | null; out: string };
  /**
   * `pulumi stack init <site>`, then the site's (sandbox) account credentials set as an operator
   * does: `pulumi config set --secret --path credentials:<cloud>.<field>`.
   */
  initSite(site: SiteId): { code: number | null; out: string };
  /** Sets a value in stacks/Pulumi.<stack>.yaml, by YAML path. */
  setStackValue(stack: string, keyPath: (string | number)[], value: unknown): void;
  remove(): void;
}

/** What a laptop may share with the service: its state backend, passphrase and (sandbox) cloud account. */
export interface LaptopOptions {
  backend?: StateBackend;
  passphrase?: string;
  cloudDir?: string;
}

export async function laptopCheckout(prefix: string, opts: LaptopOptions = {}): Promise<LaptopCheckout> {
  const tmp = tempDir(prefix);
  const dir = path.join(tmp.dir, "checkout");
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(projectRoot, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  fs.cpSync(path.join(projectRoot, "stacks"), path.join(dir, "stacks"), { recursive: true });
  for (const linked of ["node_modules", "dist", "package.json"]) {
    fs.symlinkSync(path.join(projectRoot, linked), path.join(dir, linked));
  }
  const home = path.join(tmp.dir, "pulumi-home");
  await installSandboxPlugins(home);
  const cloudDir = opts.cloudDir ?? path.join(tmp.dir, "cloud");
  if (!opts.backend) fs.mkdirSync(path.join(tmp.dir, "state"));
  fs.mkdirSync(cloudDir, { recursive: true });
  const env = {
    ...process.env,
    ...engineEnv(
      {
        stateDir: path.join(tmp.dir, "state"),
        ...(opts.backend ? { backend: opts.backend } : {}),
        pulumiHome: home,
        passphrase: opts.passphrase ?? "laptop-checkout",
        env: { STACKYARD_SANDBOX_DIR: cloudDir },
      },
      opts.backend?.url,
    ),
    // An operator's laptop reaches an s3:// backend with its own AWS keys, as the pulumi CLI reads them.
    ...(opts.backend?.kind === "s3"
      ? {
          AWS_ACCESS_KEY_ID: opts.backend.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: opts.backend.credentials.secretAccessKey,
        }
      : {}),
  };
  const pulumi = (...args: string[]) => {
    const r = spawnSync(path.join(engineBinDir(), "pulumi"), [...args, "--non-interactive"], {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  return {
    dir,
    cloud: new SandboxCloud(cloudDir),
    pulumi,
    initSite(site) {
      const init = pulumi("stack", "init", site);
      if (init.code !== 0) return init;
      // One CLI call for every field, as `pulumi config set-all --path --secret k=v …`.
      const pairs = Object.entries(sandboxSiteCredentials(site)).flatMap(([key, fields]) =>
        Object.entries(fields).flatMap(([field, value]) => ["--secret", `${key}.${field}=${value}`]),
      );
      const set = pulumi("config", "set-all", "--path", ...pairs, "-s", site);
      return set.code !== 0 ? set : init;
    },
    setStackValue(stack, keyPath, value) {
      const file = path.join(dir, "stacks", `Pulumi.${stack}.yaml`);
      const doc = parseDocument(fs.readFileSync(file, "utf8"));
      doc.setIn(["config", ...keyPath], value);
      fs.writeFileSync(file, doc.toString());
    },
    remove: tmp.remove,
  };
}
