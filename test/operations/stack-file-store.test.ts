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

  it("parses a file once per text: each load is the caller's own copy, and any edit is read afresh", () => {
    const dir = workspaceWith("theatl", "theatl");
    dirs.push(dir);
    const store = new StackFileStore(dir);
    const first = store.load("theatl");
    (first.spec as any).sidekiq.pools.main.count = 99;
    assert.notEqual(
      (store.load("theatl").spec as any).sidekiq.pools.main.count,
      99,
      "a copy, not the cached one",
    );
    // The same length, one digit changed: still a fresh parse.
    const file = store.pathOf("theatl");
    const text = fs.readFileSync(file, "utf8");
    const rev = store.load("theatl").configRevision;
    const next = rev === 9 ? 8 : rev + 1 > 9 ? rev - 1 : rev + 1;
    fs.writeFileSync(
      file,
      text.replace(`stackyard:configRevision: ${rev}`, `stackyard:configRevision: ${next}`),
    );
    assert.equal(fs.readFileSync(file, "utf8").length, text.length);
    assert.equal(store.load("theatl").configRevision, next);
    // A broken edit after a good load is refused, not answered from the last good parse.
    fs.writeFileSync(file, text.replace("stackyard:site: theatl", "stackyard:site: vulpine"));
    assert.throws(() => store.load("theatl"), StackConfigInvalidError);
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
