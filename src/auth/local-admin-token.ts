import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { hashToken, SCOPES, tokenEntrySchema, type TokenEntry } from "./tokens";

/** The principal a sandbox's first start creates when no token is configured. */
export const LOCAL_ADMIN_ID = "local-admin";

/**
 * Where a sandbox keeps its local administrator, under the state folder (`<state>/local/`, mode
 * 0700): the service's side holds only the digest; the CLI's side holds the token, for the same
 * OS user only (0600), and the URL the service listens on.
 */
export function localTokenPaths(stateDir: string) {
  const dir = path.join(stateDir, "local");
  return {
    dir,
    /** The TokenEntry (id, sha256, sites, scopes) the service loads on every start. */
    digestFile: path.join(dir, "admin-token.json"),
    /** The token itself: read by `bin/stackyard` only, never by the service. */
    cliTokenFile: path.join(dir, "cli-token"),
    /** `{url}` of the local API, rewritten on each start (the port may change). */
    serviceFile: path.join(dir, "service.json"),
  };
}

export interface LocalAdmin {
  entry: TokenEntry;
  /** Set only on the start that created it: the one time it is shown. */
  token?: string;
  paths: ReturnType<typeof localTokenPaths>;
}

export class LocalTokenError extends Error {}

/**
 * The sandbox's local administrator: created on the first start (the digest file is claimed with
 * O_EXCL, so two processes starting together make one), reused on every later one. Callers decide
 * when this applies (sandbox mode, no STACKYARD_TOKENS); it never runs in live mode.
 */
export function ensureLocalAdminToken(stateDir: string): LocalAdmin {
  const paths = localTokenPaths(stateDir);
  fs.mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(paths.dir, 0o700);
  const token = `sy_local_${randomBytes(32).toString("base64url")}`;
  const entry: TokenEntry = {
    id: LOCAL_ADMIN_ID,
    sha256: hashToken(token),
    sites: ["*"],
    operations: ["*"],
    scopes: [...SCOPES],
  };
  try {
    fs.writeFileSync(paths.digestFile, JSON.stringify(entry, null, 2) + "\n", { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { entry: readDigestFile(paths.digestFile), paths };
  }
  fs.writeFileSync(paths.cliTokenFile, token + "\n", { mode: 0o600 });
  fs.chmodSync(paths.cliTokenFile, 0o600);
  return { entry, token, paths };
}

function readDigestFile(file: string): TokenEntry {
  const parsed = tokenEntrySchema.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
  if (!parsed.success)
    throw new LocalTokenError(
      `${file}: not a token entry (${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}); delete it and ${path.join(path.dirname(file), "cli-token")} to make a new local token`,
    );
  return parsed.data;
}

/** Records where the local API listens, for the CLI (no secret in it). */
export function writeLocalServiceUrl(stateDir: string, url: string): void {
  const { dir, serviceFile } = localTokenPaths(stateDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(serviceFile, JSON.stringify({ url }) + "\n", { mode: 0o600 });
}

/** The URL a local service recorded, if any. */
export function readLocalServiceUrl(stateDir: string): string | undefined {
  try {
    const j = JSON.parse(fs.readFileSync(localTokenPaths(stateDir).serviceFile, "utf8")) as { url?: unknown };
    return typeof j.url === "string" ? j.url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CLI's copy of the local token, if this user has one. A file others could read is refused,
 * as ssh refuses a private key with loose permissions.
 */
export function readLocalCliToken(stateDir: string): string | undefined {
  const file = localTokenPaths(stateDir).cliTokenFile;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  if ((st.mode & 0o077) !== 0)
    throw new LocalTokenError(
      `${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  return fs.readFileSync(file, "utf8").trim() || undefined;
}

/** A new token and its STACKYARD_TOKENS entry (`stackyard token create`), checked by the same schema. */
export function newTokenEntry(fields: {
  id: string;
  sites: string[];
  operations?: string[];
  scopes: string[];
}): { token: string; entry: TokenEntry } {
  const token = `svc_${randomBytes(32).toString("base64url")}`;
  const entry = tokenEntrySchema.parse({
    id: fields.id,
    sha256: hashToken(token),
    sites: fields.sites,
    operations: fields.operations ?? ["*"],
    scopes: fields.scopes,
  });
  return { token, entry };
}
