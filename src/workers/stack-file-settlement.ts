import { commitStackFile } from "../operations/git-commit";
import type { Ledger } from "../operations/ledger";
import type { StackFileSettlement } from "../operations/operation-record";
import type { StackFileStore } from "../operations/stack-file-store";

export interface SettlementDeps {
  ledger: Ledger;
  stackFiles: StackFileStore;
  git: { enabled: boolean; author: { name: string; email: string } };
}

export interface SettlementInput {
  site: string;
  /** The operation whose change the file may still hold (the run's own, or a dead one's). */
  operationId: string;
  /** What the engine's state records as deployed, read after the engine stopped. */
  deployedRevision: number | undefined;
  /** Steps the engine completed in `up` ("op urn"), for the record. */
  applied: string[];
  why: string;
}

/**
 * Puts the desired state back after an operation that did not succeed, so that the stack file and
 * the engine's state agree and the next operation (or a laptop's `pulumi up`) can run: the file's
 * revision is never below the deployed one, whatever point the engine stopped at.
 *
 * - The engine did not record the operation's revision (it stopped before the program's outputs):
 *   the file gets its previous text back, revision included. Steps the engine did apply are
 *   converged back by the next update, which plans from that file.
 * - The engine recorded the revision (it was stopped or failed after the outputs, e.g. in the
 *   deletes it runs last): restoring the old text would put the file below the deployed revision
 *   and the revision guard would refuse every later run. The previous spec is written as a new
 *   revision above the deployed one instead, and committed, so the cancel still means "back to
 *   what it was" and nothing is wedged.
 */
export async function settleStackFile(
  deps: SettlementDeps,
  input: SettlementInput,
): Promise<StackFileSettlement> {
  const { site, operationId, deployedRevision, applied } = input;
  const pending = (await deps.ledger.siteState(site)).pendingWrite;
  if (!pending || pending.operationId !== operationId) {
    return {
      deployedRevision,
      action: "none",
      applied,
      note: "the stack file holds no change of this operation",
    };
  }
  if (deployedRevision === undefined || deployedRevision < pending.revision) {
    deps.stackFiles.writeText(site, pending.previousText);
    await deps.ledger.clearPendingWrite(site);
    const fileRevision = deps.stackFiles.load(site).configRevision;
    return {
      deployedRevision,
      action: "restored",
      fileRevision,
      applied,
      note: `stacks/Pulumi.${site}.yaml restored to revision ${fileRevision} (${input.why})`,
    };
  }
  const fileRevision = deployedRevision + 1;
  deps.stackFiles.writeTextAtRevision(site, pending.previousText, fileRevision);
  const note =
    `the engine had recorded revision ${deployedRevision} as deployed before it stopped (${input.why}); ` +
    `stacks/Pulumi.${site}.yaml has the previous spec again as revision ${fileRevision}, and the next update converges the cloud to it`;
  if (deps.git.enabled) {
    await commitStackFile({
      repoDir: deps.stackFiles.workspaceDir,
      file: deps.stackFiles.pathOf(site),
      message: `${site}: back to the spec before ${operationId} (config revision ${fileRevision})\n\n${note}\n`,
      author: deps.git.author,
    }).catch(() => undefined); // the file is written; a failed commit leaves it for the next commit
  }
  await deps.ledger.setSiteState(site, { configRevision: deployedRevision });
  await deps.ledger.clearPendingWrite(site);
  return { deployedRevision, action: "reverted", fileRevision, applied, note };
}
