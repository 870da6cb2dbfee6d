import { driftLines, driftOf, type DriftReport } from "../operations/drift-report";
import { refuse, type Refusal } from "../operations/verdict";

type Step = { op: string; type: string; urn: string };

/**
 * A preview step outside what the operation declares, as the record keeps it. When the site's
 * latest drift report names the step's resource, the message says so: the step is the program
 * putting back what someone changed by hand, not something the operation asked for.
 */
export function blastRefusal(kind: string, step: Step, touches: unknown, drift?: DriftReport): Refusal {
  const found = drift ? driftLines(driftOf(drift, step.urn)) : [];
  const why = found.length > 0 ? `; ${found.join(", ")} out of band (${remedy(drift!)})` : "";
  return refuse({
    layer: "blast-radius",
    rule: "blast-radius",
    value: `${step.op} ${step.type} ${step.urn}`,
    limit: touches,
    message: `${kind} would ${step.op} ${step.type} ${step.urn}, outside what it declares${why}`,
  });
}

/** For the operation's reason: the drift behind the refused steps, or undefined when none explains them. */
export function driftNote(steps: readonly Step[], drift: DriftReport | undefined): string | undefined {
  if (!drift) return undefined;
  const lines = steps.flatMap((s) => driftLines(driftOf(drift, s.urn)));
  if (lines.length === 0) return undefined;
  return `the site drifted: ${[...new Set(lines)].join(", ")} out of band (${remedy(drift)})`;
}

const remedy = (d: DriftReport) =>
  `found by ${d.operationId} at ${d.detectedAt}; run detect-drift to confirm, revert-drift to put it back`;

/** A step the engine started during `up` outside the declaration (the watch stopped the update). */
export function duringUpRefusal(kind: string, step: Step): Refusal {
  const message = `the engine started ${step.op} ${step.type} ${step.urn} during up, outside what ${kind} declares; the update was stopped`;
  return refuse({
    layer: "blast-radius",
    rule: "blast-radius",
    value: `${step.op} ${step.type} ${step.urn}`,
    limit: "the operation's declared touches",
    message,
  });
}
