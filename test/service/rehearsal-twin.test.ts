import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { STALE_TWIN_MS, sweepStaleTwins } from "../../src/service/rehearsal-twin";
import { tempDir } from "../support/temp-dir";

describe("rehearsal twins left behind", () => {
  it("removes only the twins older than a day (a dead worker's), keeping a running rehearsal's", () => {
    const tmp = tempDir("twins");
    try {
      const old = path.join(tmp.dir, "op-old");
      const fresh = path.join(tmp.dir, "op-fresh");
      for (const d of [old, fresh]) {
        fs.mkdirSync(path.join(d, "cloud"), { recursive: true });
        fs.writeFileSync(path.join(d, "cloud", "secret.json"), "{}");
      }
      const past = new Date(Date.now() - STALE_TWIN_MS - 60_000);
      fs.utimesSync(old, past, past);
      assert.deepEqual(sweepStaleTwins(tmp.dir), ["op-old"]);
      assert.equal(fs.existsSync(old), false);
      assert.equal(fs.existsSync(path.join(fresh, "cloud", "secret.json")), true);
      assert.deepEqual(sweepStaleTwins(path.join(tmp.dir, "missing")), [], "no folder yet: nothing to do");
    } finally {
      tmp.remove();
    }
  });
});
