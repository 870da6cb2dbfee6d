import { inspect } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { StaleConfigRevisionError } from "../errors";

/** The `configRevision` output of the last update, read from an exported deployment (undefined before any). */
export function deployedRevisionFromState(state: {
  deployment?: { resources?: Array<{ type: string; outputs?: Record<string, unknown> }> };
}): number | undefined {
  const root = state.deployment?.resources?.find((r) => r.type === "pulumi:pulumi:Stack");
  const v = root?.outputs?.configRevision;
  return typeof v === "number" ? v : undefined;
}

/** Throws when the stack file is older than what is deployed: running it would undo applied operations. */
export function assertRevisionNotStale(
  stack: string,
  fileRevision: number,
  deployedRevision: number | undefined,
): void {
  if (deployedRevision !== undefined && fileRevision < deployedRevision) {
    throw new StaleConfigRevisionError(stack, fileRevision, deployedRevision);
  }
}

/**
 * The laptop guard, for a program's entry to await before it registers any resource: it reads the
 * revision the stack's last update deployed (the stack's own `configRevision` output, through a
 * StackReference to itself, which works on every backend) and throws if the stack file is older.
 * Throwing before any resource is registered stops `pulumi up` with no change; the message says
 * which revision is deployed and how to catch up. A first deployment (no outputs yet) passes.
 */
export async function assertConfigRevisionCurrent(fileRevision: number): Promise<void> {
  const stack = pulumi.getStack();
  const name = `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`;
  const self = new pulumi.StackReference(`stackyard-revision-guard-${stack}`, { name });
  const details = await self.getOutputDetails("configRevision");
  const deployed = typeof details.value === "number" ? details.value : undefined;
  try {
    assertRevisionNotStale(stack, fileRevision, deployed);
  } catch (err) {
    // The SDK prints a RunError as its message alone; any other error comes with a stack trace
    // through the SDK's internals, as if it were a bug.
    if (!(err instanceof StaleConfigRevisionError)) throw err;
    throw plainRunError(err.message);
  }
}

/**
 * A RunError that costs nothing to describe. The SDK's runner logs a RunError's message alone,
 * but then also records `util.inspect(err, { colors: true })` on its tracing span
 * (`cmd/run/run.js` uncaughtHandler → `defaultErrorMessage`), even with tracing off: formatting
 * the stack (source-mapped) and inspecting the error in a process holding the whole provider SDK
 * took 10 s idle and 100 s under load (a CPU profile: util.inspect's formatError and the garbage
 * collector), which made a refusal several times slower than a passing preview. The stack is set
 * to the message (never formatted), and inspecting the error gives the message.
 */
function plainRunError(message: string): pulumi.RunError {
  const err = new pulumi.RunError(message);
  Object.defineProperty(err, "stack", { value: `RunError: ${message}`, writable: true, configurable: true });
  Object.defineProperty(err, inspect.custom, { value: () => message });
  return err;
}
