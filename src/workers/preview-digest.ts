import type { EngineEvent } from "@pulumi/pulumi/automation";
import { createHash } from "node:crypto";
import type { PreviewSummary } from "../operations/operation-record";
import { redact } from "../infra/observability/redact";

type StepMetadata = NonNullable<EngineEvent["resourcePreEvent"]>["metadata"];

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** JSON with object keys sorted at every level, so equal values always hash alike. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/**
 * One step's fingerprint: what it does, to what, and the values it would set (`new.inputs`). Only
 * the hash is kept, never the inputs: the engine already shows secret inputs as `[secret]`, and the
 * service's own secrets are masked before hashing, so the digest depends on no secret value.
 */
export function stepValueHash(meta: StepMetadata, secrets: readonly string[]): string {
  const inputs = redact(meta.new?.inputs ?? null, secrets);
  return sha256(canonical({ op: meta.op, urn: meta.urn, inputs }));
}

/** A preview as the approval binds it: its steps and, when recorded, each step's value hash. */
export interface DigestablePreview {
  steps: PreviewSummary["steps"];
  stepValues?: readonly string[];
}

/**
 * A stable fingerprint of what an approver approves: the operation's params, every step (op and
 * resource) and the values each step would set. The approved run previews again and refuses when
 * this changed, so neither new params nor an in-place change of a value (replicas 3 → 9 on the
 * same resource) can ride on an earlier approval.
 */
export function previewDigest(
  preview: DigestablePreview | PreviewSummary["steps"],
  params: Record<string, unknown> = {},
): string {
  const p: DigestablePreview = Array.isArray(preview) ? { steps: preview } : preview;
  const steps = p.steps.map((s) => `${s.op} ${s.urn}`).sort();
  const values = [...(p.stepValues ?? [])].sort();
  return sha256(canonical({ params, steps, values }));
}
