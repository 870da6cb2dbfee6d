import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The file:// backend stores each object with a `<name>.attrs` JSON sidecar (gocloud's fileblob).
 * The object itself is written to a temporary file and renamed, but the sidecar is truncated and
 * then written in place, so a CLI killed (kill -9) at that moment leaves an empty or partial
 * sidecar, and every later command on the stack fails with "failed to load checkpoint: EOF".
 * A missing sidecar is valid (fileblob then assumes defaults), so a sidecar that does not parse is
 * removed. Only this stack's checkpoint and lock folders are looked at. Returns what was removed.
 */
export function repairTruncatedSidecars(stateDir: string, projectName: string, stackName: string): string[] {
  const root = path.join(stateDir, ".pulumi");
  const candidates = [
    ...sidecarsIn(path.join(root, "stacks", projectName)).filter((f) =>
      path.basename(f).startsWith(`${stackName}.json`),
    ),
    ...sidecarsIn(path.join(root, "locks", "organization", projectName, stackName)),
    ...sidecarsIn(path.join(root, "locks", projectName, stackName)),
  ];
  const removed: string[] = [];
  for (const file of candidates) {
    if (parses(file)) continue;
    fs.rmSync(file, { force: true });
    removed.push(path.relative(stateDir, file));
  }
  return removed;
}

function sidecarsIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(".attrs"))
      .map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

function parses(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}
