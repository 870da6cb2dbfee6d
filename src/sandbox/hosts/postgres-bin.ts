import * as fs from "node:fs";
import * as path from "node:path";

/** The newest PostgreSQL server from Debian's packages (scripts/setup.sh installs it). */
export function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, "bin", "postgres")))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest)
    throw new Error(
      "PostgreSQL server binaries not found under /usr/lib/postgresql (scripts/setup.sh installs them: STACKYARD_SETUP_POSTGRES=1)",
    );
  return path.join(root, newest, "bin");
}
