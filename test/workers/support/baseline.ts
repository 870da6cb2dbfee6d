import * as path from "node:path";
import { StackSession } from "../../../src/engine/stack-session";
import { programFromStackConfig } from "../../../src/programs/program";
import { StackFileStore } from "../../../src/operations/stack-file-store";
import { seedAdoptedResources } from "../../../src/sandbox/adopted-resources";
import { readCalls } from "../../../src/sandbox/call-log";
import { installSandboxPlugins } from "../../../src/sandbox/install-plugins";
import { SandboxCloud, TYPES } from "../../../src/sandbox/sandbox-cloud";
import { sandboxSiteCredentials } from "../../../src/sandbox/site-credentials";
import type { SiteId } from "../../../src/programs/site-config";
import { sandboxDirFor } from "../../../src/service/sandbox-facts";
import type { Deployment } from "./service-harness";

/** The engine settings the service uses by default for a deployment (see src/service/config.ts). */
export function engineSettings(d: Deployment, site: string) {
  return {
    stateDir: path.join(d.stateDir, "backend"),
    pulumiHome: path.join(d.stateDir, "sandbox-home"),
    passphrase: "stackyard-sandbox-passphrase",
    env: { STACKYARD_SANDBOX_DIR: sandboxDirFor(d.sandboxDir, site) },
    seedSecretConfig: sandboxSiteCredentials(site as SiteId),
  };
}

export async function openSession(d: Deployment, site: string): Promise<StackSession> {
  await installSandboxPlugins(path.join(d.stateDir, "sandbox-home"));
  return StackSession.open(
    { projectName: "stackyard", stackName: site, workDir: d.workspace, program: programFromStackConfig() },
    engineSettings(d, site),
  );
}

/** The site's first deployment, as an operator does it before the service takes over day-2 operations. */
export async function deployBaseline(d: Deployment, site: string): Promise<void> {
  if (site === "insync") adoptInsyncBackups(d);
  const session = await openSession(d, site);
  const r = await session.up();
  if (r.summary.result !== "succeeded") throw new Error(`baseline of ${site}: ${r.summary.result}`);
}

/** The adopted backup bucket exists in Insync's account before the first deployment, as it does for real. */
function adoptInsyncBackups(d: Deployment): void {
  seedAdoptedResources(siteCloud(d, "insync"), new StackFileStore(d.workspace).load("insync"));
}

/** Every resource of a simulated cloud with its id and outputs: "nothing changed" means this is equal. */
export function cloudSnapshot(cloud: SandboxCloud): string[] {
  return cloud
    .list()
    .map((r) => `${r.urn} ${r.id} ${JSON.stringify(r.outputs)}`)
    .sort();
}

/** Database node name → role (primary, standby, …) as the site's simulated cloud reports them. */
export function dbRoles(cloud: SandboxCloud, site: string): Record<string, string> {
  return Object.fromEntries(cloud.dbNodes(site).map((n) => [n.name, n.role]));
}

/** The simulated cloud account of one site in a deployment. */
export function siteCloud(d: Deployment, site: string): SandboxCloud {
  return new SandboxCloud(sandboxDirFor(d.sandboxDir, site));
}

/** theATL's main sidekiq pool droplets in a simulated cloud (the count a scale-sidekiq sets). */
export function theatlPoolDroplets(cloud: SandboxCloud): number {
  return cloud.list(TYPES.droplet, "theatl").filter((r) => /theatl-sidekiq-main-\d+$/.test(r.urn)).length;
}

/** Each node of an operation's verify phase as [node, expected role, held]. */
export function hostChecks(op: {
  hosts: { observations: { node: string; expected: string; ok: boolean }[] };
}) {
  return op.hosts.observations.map((o) => [o.node, o.expected, o.ok]);
}

/**
 * Waits until the sandbox holds a provider call made since `since` (the `hold` fault), failing
 * early when `ended()` says the operation finished before its update got there.
 */
export async function waitForHeld(
  d: Deployment,
  since: number,
  ended: () => Promise<string | undefined> = async () => undefined,
): Promise<void> {
  const held = () =>
    readCalls(sandboxDirFor(d.sandboxDir, "theatl")).some(
      (c) => c.phase === "held" && Date.parse(c.ts) >= since,
    );
  for (const until = Date.now() + 300_000; !held();) {
    if (Date.now() > until) throw new Error("the update never reached the held provider call");
    const reason = await ended();
    if (reason !== undefined)
      throw new Error(`the operation ended before its update reached the cloud: ${reason}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
