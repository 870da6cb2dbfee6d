import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { postgresBin } from "./postgres-bin";

const NEEDS = ["unshare", "runuser", "mount", "curl", "redis-server"];

/**
 * What rehearsing hosts needs of this machine, checked once before any host starts: root (each
 * deploy run bind-mounts /opt/mastodon in a mount namespace; PostgreSQL runs as the postgres user),
 * the tools the host scripts call, Debian's PostgreSQL, and a hosts folder the postgres user can
 * enter. Each failure says what to do; nothing is started.
 */
export function checkHostPrerequisites(dir: string): void {
  const field = "STACKYARD_SANDBOX_HOSTS";
  if (process.getuid?.() !== 0)
    throw new Error(
      `${field}: rehearsed hosts need root (mount namespaces, the postgres user); run as root or leave it off`,
    );
  const missing = NEEDS.filter(
    (c) => spawnSync("sh", ["-c", `command -v ${c}`], { stdio: "ignore" }).status !== 0,
  );
  if (missing.length > 0)
    throw new Error(`${field}: missing ${missing.join(", ")} (scripts/setup.sh installs them)`);
  postgresBin();
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  fs.chmodSync(dir, 0o711);
  if (
    spawnSync("runuser", ["-u", "postgres", "--", "test", "-x", dir], { cwd: "/", stdio: "ignore" })
      .status !== 0
  )
    throw new Error(
      `STACKYARD_SANDBOX_HOSTS_DIR: the postgres user cannot enter ${dir} (a folder above it is private); choose a folder it can enter`,
    );
}
