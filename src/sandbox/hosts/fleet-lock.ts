import * as fs from "node:fs";
import * as path from "node:path";
import { pidAlive } from "../../infra/pid-alive";

/**
 * One process runs a sandbox's rehearsed hosts (two fleets would start two servers on one data
 * directory). The first takes `fleet.pid`; one left by a dead process is taken over. Others read
 * the endpoints the owner writes. Returns a release, or undefined when a live process owns it.
 */
export function takeFleetLock(dir: string): (() => void) | undefined {
  const file = path.join(dir, "fleet.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx", mode: 0o644 });
      return () => {
        if (fs.readFileSync(file, "utf8").trim() === String(process.pid)) fs.rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(fs.readFileSync(file, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) return undefined;
      fs.rmSync(file, { force: true });
    }
  }
  return undefined;
}
