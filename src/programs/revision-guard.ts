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
    throw new pulumi.RunError(err.message);
  }
}
