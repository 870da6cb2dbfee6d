import * as path from "node:path";
import type { PackageSpecs } from "../sandbox-provider";
import { awsSpecs } from "./aws";
import { digitaloceanCompute } from "./digitalocean";
import { digitaloceanData } from "./digitalocean-data";
import { digitaloceanKubernetes } from "./digitalocean-kubernetes";
import { hcloudSpecs } from "./hcloud";
import { awsInvokes, digitaloceanInvokes, hcloudInvokes, kubernetesInvokes, linodeInvokes } from "./invokes";
import { kubernetesSpecs } from "./kubernetes";
import { linodeSpecs } from "./linode";

// The five simulated packages. Versions come from the installed SDKs' package.json `pulumi` block,
// which is exactly the plugin name and version the engine asks for when a program uses the SDK.

export const SANDBOX_PACKAGES = ["digitalocean", "linode", "hcloud", "aws", "kubernetes"] as const;
export type SandboxPackage = (typeof SANDBOX_PACKAGES)[number];

/** The plugin name and version an installed SDK asks the engine for. */
export function sdkPluginVersion(pkg: SandboxPackage): { name: string; version: string } {
  const manifest = require(path.join(`@pulumi/${pkg}`, "package.json")) as {
    pulumi: { name: string; version: string };
  };
  return { name: manifest.pulumi.name, version: manifest.pulumi.version };
}

export function packageSpecs(pkg: string): PackageSpecs {
  const table: Record<SandboxPackage, Omit<PackageSpecs, "name" | "version">> = {
    digitalocean: {
      resources: [...digitaloceanCompute, ...digitaloceanData, ...digitaloceanKubernetes],
      invokes: digitaloceanInvokes,
    },
    linode: { resources: linodeSpecs, invokes: linodeInvokes },
    hcloud: { resources: hcloudSpecs, invokes: hcloudInvokes },
    aws: { resources: awsSpecs, invokes: awsInvokes },
    kubernetes: { resources: kubernetesSpecs, invokes: kubernetesInvokes },
  };
  if (!(SANDBOX_PACKAGES as readonly string[]).includes(pkg))
    throw new Error(`sandbox: package ${pkg} is not simulated`);
  const p = pkg as SandboxPackage;
  return { ...sdkPluginVersion(p), ...table[p] };
}

/** Every simulated resource type token, per package (for docs and coverage tests). */
export function coveredTypes(): Record<SandboxPackage, string[]> {
  const out = {} as Record<SandboxPackage, string[]>;
  for (const p of SANDBOX_PACKAGES) out[p] = packageSpecs(p).resources.map((r) => r.type);
  return out;
}
