import * as path from "node:path";
import { parseDocument } from "yaml";
import { fetchStackFile, publishStackFile, pushAside, type GitRemote } from "../operations/git-remote";
import type { StackFileStore } from "../operations/stack-file-store";

/** What a run planned on: the remote's copy of its stack file, the base its push must still find. */
export interface PulledStackFile {
  /** The remote's text when the run started (undefined: the branch has no such file). */
  base: string | undefined;
  tip: string;
  /** Set when the remote's copy replaced the working one (another machine or a laptop pushed it). */
  took?: { revision: number };
}

export type PublishOutcome =
  | { outcome: "pushed" | "unchanged"; commit: string }
  | { outcome: "conflict"; commit: string; by: string; aside: string; asideCommit: string };

function revisionOf(text: string): number {
  const v = parseDocument(text).getIn(["config", "stackyard:configRevision"]);
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) ? n : -1;
}

/**
 * The remote branch is the shared desired state: under the stack lock and before planning, the
 * working copy of the stack file becomes the remote's when the remote's is at least as new (another
 * machine's operation, a laptop's push). A working copy newer than the remote (a push that failed
 * last time) is kept, and goes out with this run's push. `takeRemote` is false for a run resuming
 * its own written change: then only the base is read.
 */
export async function pullStackFile(
  files: StackFileStore,
  remote: GitRemote,
  site: string,
  takeRemote: boolean,
): Promise<PulledStackFile> {
  const rel = path.relative(files.workspaceDir, files.pathOf(site));
  const r = await fetchStackFile(files.workspaceDir, remote, rel);
  const out: PulledStackFile = { base: r.text, tip: r.tip };
  if (!takeRemote || r.text === undefined) return out;
  const local = files.readText(site);
  if (r.text === local || revisionOf(r.text) < revisionOf(local)) return out;
  files.writeText(site, r.text);
  return { ...out, took: { revision: revisionOf(r.text) } };
}

/**
 * After an apply: the working stack file goes to the remote branch on top of whatever else was
 * pushed meanwhile. If the remote's copy of this file changed since `pulled` (someone edited the
 * stack while this run applied), nothing is pushed over it: this run's file goes to
 * `stackyard/conflicts/<operation id>`, and the working copy takes the remote's, which the revision
 * guard then refuses as older than what is deployed until a human merges the two.
 */
export async function publishAppliedStackFile(
  files: StackFileStore,
  remote: GitRemote,
  site: string,
  pulled: PulledStackFile,
  operationId: string,
  message: string,
  author: { name: string; email: string },
): Promise<PublishOutcome> {
  const rel = path.relative(files.workspaceDir, files.pathOf(site));
  const r = await publishStackFile(files.workspaceDir, remote, rel, pulled.base, message, author);
  if (r.status !== "conflict") return { outcome: r.status, commit: r.commit };
  const aside = `stackyard/conflicts/${operationId}`;
  const asideCommit = await pushAside(files.workspaceDir, remote, rel, aside, message, author);
  const now = await fetchStackFile(files.workspaceDir, remote, rel);
  if (now.text !== undefined) files.writeText(site, now.text);
  return { outcome: "conflict", commit: r.commit, by: r.by, aside, asideCommit };
}
