import type { EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../infra/paths";
import { refuse, type Refusal } from "../operations/verdict";

/** The repo's CrossGuard pack: the same folder an operator passes to `pulumi up --policy-pack`. */
export const POLICY_PACK_DIR = path.join(projectRoot, "policy-pack");

/**
 * Writes the pack's config for one engine run (`packConfigFor`: the site's sizes and ceiling, and
 * the stateful names the operation declares in the pack's own `allowUnprotected` knob instead of
 * the pack being weakened). Returns the file and a cleanup.
 */
export function writePolicyConfig(
  operationId: string,
  config: Record<string, unknown>,
): { file: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stackyard-policy-${operationId}-`));
  const file = path.join(dir, "policy-config.json");
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Collects the pack's mandatory violations from the engine's `policyEvent`s. The pack prefixes its
 * messages with `[rule]`; the message carries the value and the limit in words.
 */
export class PolicyViolationCollector {
  readonly refusals: Refusal[] = [];

  readonly onEvent = (e: EngineEvent): void => {
    const p = e.policyEvent;
    if (!p || p.enforcementLevel !== "mandatory") return;
    // The engine prefixes the policy's description; the pack's own line starts with `[rule]`.
    const m = /\[([a-z0-9-]+)\]\s*([^\n]*)/.exec(p.message ?? "");
    const rule = m?.[1] ?? p.policyName;
    const message = (m?.[2] ?? p.message ?? "").trim().split("\n")[0]!.slice(0, 500);
    const limit = /\(limit: ([^)]*)\)/.exec(message)?.[1] ?? p.policyName;
    if (this.refusals.some((r) => r.rule === rule && r.message === message)) return;
    this.refusals.push(refuse({ layer: "policy", rule, value: p.resourceUrn ?? "stack", limit, message }));
  };
}
