import * as os from "node:os";
import * as path from "node:path";
import { RecoveryRefusedError } from "../errors";
import { pidAlive } from "../infra/pid-alive";
import { engineLockStore, type EngineLock } from "./engine-locks";
import type { StackSession } from "./stack-session";
import type { StateBackend } from "./state-backend";

export { engineLockFiles } from "./engine-locks";

/** What the cloud says about a resource the engine was creating when it died. */
export type PendingCreateVerdict =
  { state: "absent" } | { state: "present"; id: string } | { state: "unknown" };

export interface RecoveryOptions {
  session: StackSession;
  /** Where the stack's state and its DIY lock files or objects are (file:// or s3://). */
  backend: StateBackend;
  projectName: string;
  stackName: string;
  /** How long to wait for a live local CLI (a dying predecessor) to let go of its lock. */
  liveLockWaitMs: number;
  /** A foreign-host lock older than this is stale (longer than any update may run). */
  foreignLockStaleMs: number;
  /** Asks the cloud whether a resource the engine was creating exists (the sandbox can tell; live providers cannot). */
  inspectPendingCreate?: (urn: string, type: string) => PendingCreateVerdict;
  /** Every recovery step is recorded on the operation. */
  record: (
    step:
      | "stale-engine-lock-cleared"
      | "pending-operations-refreshed"
      | "pending-creates-cleared"
      | "pending-creates-adopted"
      | "waited-for-engine",
    detail: string,
  ) => Promise<void>;
}

/**
 * Brings a stack interrupted by a dead worker back to a runnable state (research §B6). The caller
 * holds the service's Redis lock for the stack, so no other service process is updating it; a
 * Pulumi lock file is cleared only when its own process is provably dead (same host, pid gone) or
 * it is older than any update may run. Pending updates/deletes are cleared by a refresh; pending
 * creates only when the cloud confirms nothing was created. Anything else stops with a reason.
 */
export async function recoverStack(o: RecoveryOptions): Promise<void> {
  await clearStaleEngineLocks(o);
  const pending = await o.session.pendingOperations();
  if (pending.length === 0) return;
  const creates = pending.filter((p) => p.type === "creating");
  if (creates.length > 0) {
    const verdicts = creates.map((p) => ({
      urn: p.resource.urn,
      verdict: o.inspectPendingCreate?.(p.resource.urn, p.resource.type) ?? { state: "unknown" as const },
    }));
    const adopted = await adoptConfirmedCreates(o, verdicts);
    if (adopted.length > 0) {
      await o.session.refresh();
      await o.record(
        "pending-creates-adopted",
        `the cloud confirmed ${adopted.map((a) => `${a.urn} as ${a.id}`).join(", ")}; adopted into the state and refreshed`,
      );
    }
    const unsafe = verdicts.filter(
      (v) => v.verdict.state !== "absent" && !adopted.some((a) => a.urn === v.urn),
    );
    if (unsafe.length > 0) {
      // Created in the cloud but never recorded (or unknowable): adopting or deleting it is an operator's call.
      const list = unsafe.map((u) =>
        u.verdict.state === "present"
          ? `${u.urn} (exists in the cloud as ${u.verdict.id})`
          : `${u.urn} (unknown)`,
      );
      throw new RecoveryRefusedError(
        `stack ${o.stackName} has ${unsafe.length} interrupted create(s) that may exist in the cloud: ${list.join(", ")}. ` +
          "Adopt each with `pulumi refresh --import-pending-creates <urn> <id>` or delete it in the provider and `pulumi refresh --clear-pending-creates`, then retry.",
        {
          pendingCreates: unsafe.map((u) => ({
            urn: u.urn,
            ...(u.verdict.state === "present" ? { id: u.verdict.id } : {}),
          })),
        },
      );
    }
    if (verdicts.every((v) => v.verdict.state !== "absent")) return;
    await o.session.refresh({ clearPendingCreates: true });
    await o.record(
      "pending-creates-cleared",
      `refreshed with clearPendingCreates; the cloud holds none of: ${creates.map((c) => c.resource.urn).join(", ")}`,
    );
    return;
  }
  await o.session.refresh();
  await o.record(
    "pending-operations-refreshed",
    `refresh cleared ${pending.map((p) => `${p.type} ${p.resource.urn}`).join(", ")}`,
  );
}

/**
 * A create the dead run finished in the cloud but never recorded, where the cloud names the
 * resource's id (the sandbox can; live providers give no such answer, so live stays refused): the
 * pending create becomes the resource it created, as `pulumi refresh --import-pending-creates`
 * intends, through the state's export and import; the refresh that follows reads its outputs.
 * Creates whose URN the state already holds (replacements) are left for an operator.
 */
async function adoptConfirmedCreates(
  o: RecoveryOptions,
  verdicts: Array<{ urn: string; verdict: PendingCreateVerdict }>,
): Promise<Array<{ urn: string; id: string }>> {
  const confirmed = new Map<string, string>();
  for (const v of verdicts) if (v.verdict.state === "present") confirmed.set(v.urn, v.verdict.id);
  if (confirmed.size === 0) return [];
  const state = await o.session.stack.exportStack();
  const deployment = state.deployment as {
    resources?: Array<Record<string, unknown>>;
    pending_operations?: Array<{ type: string; resource: Record<string, unknown> }>;
  };
  const resources = deployment.resources ?? [];
  const known = new Set(resources.map((r) => r.urn as string));
  const adopted: Array<{ urn: string; id: string }> = [];
  const remaining = [];
  for (const p of deployment.pending_operations ?? []) {
    const urn = p.resource.urn as string;
    const id = confirmed.get(urn);
    if (p.type === "creating" && id && !known.has(urn)) {
      // Appended last: nothing in the state can depend on a resource that was still being created.
      resources.push({ ...p.resource, id, outputs: p.resource.outputs ?? p.resource.inputs ?? {} });
      adopted.push({ urn, id });
    } else {
      remaining.push(p);
    }
  }
  if (adopted.length === 0) return [];
  deployment.resources = resources;
  deployment.pending_operations = remaining;
  await o.session.stack.importStack(state);
  return adopted;
}

async function clearStaleEngineLocks(o: RecoveryOptions): Promise<void> {
  const store = engineLockStore(o.backend, o.projectName, o.stackName);
  const until = Date.now() + o.liveLockWaitMs;
  let waited = false;
  for (;;) {
    const locks = await store.list();
    if (locks.length === 0) {
      if (waited)
        await o.record("waited-for-engine", "a previous engine process finished and released the stack");
      return;
    }
    let live: EngineLock | undefined;
    for (const l of locks) {
      const local = l.hostname === os.hostname();
      const age = Date.now() - Date.parse(l.timestamp || "1970-01-01T00:00:00Z");
      if ((local && !pidAlive(l.pid)) || (!local && age > o.foreignLockStaleMs)) {
        await store.remove(l);
        await o.record(
          "stale-engine-lock-cleared",
          local
            ? `engine lock of dead pid ${l.pid} removed (${path.basename(l.where)})`
            : `engine lock from ${l.hostname} older than ${o.foreignLockStaleMs} ms removed`,
        );
      } else {
        live = l;
      }
    }
    if (!live) continue;
    if (Date.now() > until) {
      throw new RecoveryRefusedError(
        `stack ${o.stackName} is locked by a running pulumi process (pid ${live.pid} on ${live.hostname || "unknown host"}, since ${live.timestamp}); ` +
          "if this is a laptop `pulumi up`, let it finish; otherwise stop that process and retry",
        { pid: live.pid, hostname: live.hostname, since: live.timestamp },
      );
    }
    waited = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}
