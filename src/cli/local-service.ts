import { readLocalCliToken, readLocalServiceUrl } from "../auth/local-admin-token";
import { localStateDir } from "../infra/paths";

const DEFAULT_URL = "http://127.0.0.1:8080";

/** Loopback only: the local token never goes to a service on another host. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h === "[::1]" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
  } catch {
    return false;
  }
}

/**
 * Where the CLI talks and with what token: STACKYARD_URL and STACKYARD_TOKEN when set; otherwise a
 * local sandbox service's own record under the state folder (STACKYARD_STATE_DIR, default
 * `.stackyard/` of this checkout): the URL it listens on and the first-run token, sent only to a
 * loopback URL.
 */
export function resolveTarget(env: NodeJS.ProcessEnv = process.env): {
  url: string;
  token?: string;
  tokenSource: "STACKYARD_TOKEN" | "local" | "none";
} {
  const stateDir = localStateDir();
  const url = (env.STACKYARD_URL ?? readLocalServiceUrl(stateDir) ?? DEFAULT_URL).replace(/\/$/, "");
  if (env.STACKYARD_TOKEN) return { url, token: env.STACKYARD_TOKEN, tokenSource: "STACKYARD_TOKEN" };
  if (!isLoopbackUrl(url)) return { url, tokenSource: "none" };
  const token = readLocalCliToken(stateDir);
  return token ? { url, token, tokenSource: "local" } : { url, tokenSource: "none" };
}
