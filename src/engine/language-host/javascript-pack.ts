import * as fs from "node:fs";
import * as path from "node:path";

/** Whether the pack at `dir` is plain JavaScript: its entry is a .js file and it has no tsconfig. */
export function isJavaScriptPack(dir: string): boolean {
  try {
    if (fs.existsSync(path.join(dir, "tsconfig.json"))) return false;
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { main?: string };
    const main = pkg.main ?? "index.js";
    return /\.c?js$/.test(main) && fs.existsSync(path.join(dir, main));
  } catch {
    return false;
  }
}
