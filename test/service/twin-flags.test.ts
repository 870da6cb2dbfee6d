import * as assert from "node:assert/strict";
import * as path from "node:path";
import { parseTwinFlags, TwinFlagError } from "../../src/service/twin-explore";

describe("twin flags (--twin-of, --twin-dir)", () => {
  it("are absent without --twin-of", () => {
    assert.equal(parseTwinFlags(["node", "main.js", "--role=all"]), undefined);
  });

  it("read the site and resolve the folder", () => {
    assert.deepEqual(parseTwinFlags(["--role=all", "--twin-of=theatl"]), { site: "theatl" });
    assert.deepEqual(parseTwinFlags(["--twin-of=theatl", "--twin-dir=rel/twin"]), {
      site: "theatl",
      dir: path.resolve("rel/twin"),
    });
  });

  it("refuse a bad value with a message naming the flag", () => {
    for (const [argv, flag] of [
      [["--twin-of="], "--twin-of="],
      [["--twin-of=../x"], "--twin-of=../x"],
      [["--twin-of=theatl", "--twin-dir="], "--twin-dir"],
      [["--twin-dir=/tmp/x"], "--twin-dir"],
    ] as const) {
      assert.throws(
        () => parseTwinFlags(argv),
        (err: unknown) => err instanceof TwinFlagError && err.message.startsWith(flag),
        argv.join(" "),
      );
    }
  });
});
