import type { StackSession } from "./stack-session";

/**
 * The programs mark stateful resources `protect` and `retainOnDelete`, so neither a mistake nor a
 * config change can delete them. An operation that declares it deletes one (removing a managed
 * read replica) must first release the engine's record of exactly those resources, or the engine
 * refuses the delete (protect) or only forgets the resource while it keeps running and billing
 * (retainOnDelete). Done through export and import of the state under the stack's lock, the
 * engine's own repair path; returns the URNs released so the operation can record them. If the
 * operation stops before its update, the next update of the unchanged program protects them again.
 */
export async function releaseForDeletion(session: StackSession, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const state = await session.stack.exportStack();
  const released: string[] = [];
  for (const r of (state.deployment?.resources ?? []) as Array<{
    urn: string;
    protect?: boolean;
    retainOnDelete?: boolean;
  }>) {
    const name = r.urn.slice(r.urn.lastIndexOf("::") + 2);
    if (!names.includes(name) || !(r.protect || r.retainOnDelete)) continue;
    r.protect = false;
    delete r.retainOnDelete;
    released.push(r.urn);
  }
  if (released.length > 0) await session.stack.importStack(state);
  return released;
}
