import type { EngineEvent } from "@pulumi/pulumi/automation";
import { outsideBlastRadius } from "../operations/blast-radius";
import type { PreviewSummary } from "../operations/operation-record";
import type { TouchRule } from "../operations/types";

/**
 * The blast-radius check during `up`: the preview was inside the declaration, but the engine
 * decides again while it runs (a provider may answer a diff differently). On the first step
 * outside the declaration it aborts the run (SIGINT to the CLI, which stops at the next safe
 * point, leaving that step unstarted when it is still waiting on dependencies).
 */
export class BlastRadiusWatch {
  private readonly controller = new AbortController();
  tripped?: PreviewSummary["steps"][number];

  constructor(private readonly touches: readonly TouchRule[]) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  readonly onEvent = (e: EngineEvent): void => {
    const meta = e.resourcePreEvent?.metadata;
    if (!meta || this.tripped) return;
    const step = { op: meta.op, type: meta.type, urn: meta.urn };
    if (outsideBlastRadius([step], this.touches).length === 0) return;
    this.tripped = step;
    this.controller.abort("stackyard:blast-radius");
  };
}

/** The approval's fingerprint of a preview lives in preview-digest.ts; re-exported for its callers. */
export { previewDigest } from "./preview-digest";
