import * as fs from "node:fs";
import * as path from "node:path";

/** Whether the pack at `dir` is plain JavaScript: its entry is a .js file and it has no tsconfig. */
export function isJavaScriptPack(dir: string): boolean {
  try {
    if (fs.existsSync(path.join(dir, "tsconfig.json"))) return false;
    const main = (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { main?: string })
      .main;
    return /\.c?js$/.test(main ?? "index.js") && fs.existsSync(path.join(dir, main ?? "index.js"));
  } catch {
    return false;
  }
}
