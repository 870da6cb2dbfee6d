import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { StackConfigInvalidError } from "../../src/errors";
import { StackFileStore } from "../../src/operations/stack-file-store";
import { projectRoot } from "../workers/support/service-harness";

/** A workspace whose `stacks/Pulumi.<as>.yaml` is the committed stack file of `from`. */
function workspaceWith(from: string, as: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackyard-store-"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.copyFileSync(
    path.join(projectRoot, "stacks", `Pulumi.${from}.yaml`),
    path.join(dir, "stacks", `Pulumi.${as}.yaml`),
  );
  return dir;
}

describe("stack file store", () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("loads a stack file whose stackyard:site is the stack it is loaded for", () => {
    const dir = workspaceWith("vulpine", "vulpine");
    dirs.push(dir);
    assert.equal(new StackFileStore(dir).load("vulpine").site, "vulpine");
  });

  it("refuses a stack file whose stackyard:site names another site, naming the key", () => {
    const dir = workspaceWith("vulpine", "chitter");
    dirs.push(dir);
    assert.throws(
      () => new StackFileStore(dir).load("chitter"),
      (err: unknown) => {
        assert.ok(err instanceof StackConfigInvalidError);
        assert.equal(err.code, "STACK_CONFIG_INVALID");
        assert.match(err.message, /stackyard:site/);
        assert.match(err.message, /"chitter" declares site "vulpine"/);
        return true;
      },
    );
  });
});
