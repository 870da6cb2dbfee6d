import { ensureLocalAdminToken, type LocalAdmin } from "../auth/local-admin-token";
import type { Logger } from "../infra/observability/logger";
import type { ServiceConfig } from "./config";

/**
 * The sandbox's first run needs no token typed anywhere: with STACKYARD_TOKENS empty, a local
 * administrator is created once under the state folder and reused after (docs/operator-view.md,
 * "First run"). Live mode never gets one: it runs only on the tokens it is given.
 */
export function firstRunAdmin(cfg: ServiceConfig): LocalAdmin | undefined {
  if (cfg.mode !== "sandbox" || cfg.tokens.length > 0) return undefined;
  return ensureLocalAdminToken(cfg.stateDir);
}

/**
 * Shows a new token once, on the terminal (stderr, outside the structured log, which never holds
 * a secret); a reused one is only named in the log, with where its files are.
 */
export function announceLocalAdmin(
  admin: LocalAdmin,
  apiUrl: string | undefined,
  logger: Logger,
  write: (s: string) => void = (s) => void process.stderr.write(s),
): void {
  const files = { digestFile: admin.paths.digestFile, cliTokenFile: admin.paths.cliTokenFile };
  if (!admin.token) {
    logger.info("local admin token in use (first run; see docs/operator-view.md)", {
      tokenId: admin.entry.id,
      ...files,
    });
    return;
  }
  write(
    [
      "",
      "stackyard: no STACKYARD_TOKENS configured: created a local administrator token (shown this once):",
      "",
      `    ${admin.token}`,
      "",
      ...(apiUrl ? [`  dashboard  ${apiUrl}/dashboard  (log in with the token)`] : []),
      `  CLI        ./bin/stackyard status theatl  (reads ${admin.paths.cliTokenFile}; no STACKYARD_TOKEN needed)`,
      `  service    keeps only its SHA-256 in ${admin.paths.digestFile}`,
      '  To replace it, delete both files and restart; docs/operator-view.md, "First run".',
      "",
      "",
    ].join("\n"),
  );
  logger.info("local admin token created (first run)", { tokenId: admin.entry.id, ...files });
}
