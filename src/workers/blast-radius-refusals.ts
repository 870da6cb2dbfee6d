import { refuse, type Refusal } from "../operations/verdict";

type Step = { op: string; type: string; urn: string };

/** A preview step outside what the operation declares, as the record keeps it. */
export function blastRefusal(kind: string, step: Step, touches: unknown): Refusal {
  return refuse({
    layer: "blast-radius",
    rule: "blast-radius",
    value: `${step.op} ${step.type} ${step.urn}`,
    limit: touches,
    message: `${kind} would ${step.op} ${step.type} ${step.urn}, outside what it declares`,
  });
}

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
