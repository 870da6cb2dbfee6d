import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A fresh folder under the system temp dir, removed by the returned cleanup. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `stackyard-${prefix}-`));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
