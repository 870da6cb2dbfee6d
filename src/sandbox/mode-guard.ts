import * as fs from "node:fs";
import * as path from "node:path";
import { ALL_AMBIENT_CREDENTIAL_ENV, CREDENTIAL_SCHEMAS, type Cloud } from "../programs/credentials/clouds";
import { Props, UNKNOWN, reveal } from "./property-values";

// Keeps the two modes apart (DESIGN.md §3):
// - live: `assertLiveHome` refuses a PULUMI_HOME that holds the sandbox marker or any sandbox
//   plugin launcher, so real credentials can never be handed to a simulated cloud by accident;
// - sandbox: the plugins refuse to run unless selected by configuration (STACKYARD_SANDBOX_DIR
//   set, PULUMI_HOME carrying the marker), and refuse configuration that belongs to a real cloud:
//   credentials shaped like real ones (in provider config or the environment), endpoint overrides
//   to hosts other than loopback, the provider's public default, or (AWS S3 only) a known
//   S3-compatible store; and kubeconfigs not issued by the sandbox.

export const SANDBOX_MARKER = "stackyard-sandbox.json";
export const LAUNCHER_SIGNATURE = "# stackyard-sandbox-plugin";

export class ModeGuardError extends Error {
  readonly code = "SANDBOX_MODE_VIOLATION";
  constructor(message: string) {
    super(message);
    this.name = "ModeGuardError";
  }
}

/** True when the folder was prepared by installSandboxPlugins. */
export function isSandboxHome(pulumiHome: string): boolean {
  return fs.existsSync(path.join(pulumiHome, SANDBOX_MARKER));
}

/** For live runs: throws if this PULUMI_HOME could load a simulated provider. */
export function assertLiveHome(pulumiHome: string): void {
  if (isSandboxHome(pulumiHome))
    throw new ModeGuardError(
      `live run refused: ${pulumiHome} is a sandbox PULUMI_HOME (${SANDBOX_MARKER} present)`,
    );
  const plugins = path.join(pulumiHome, "plugins");
  for (const dir of safeReaddir(plugins)) {
    for (const file of safeReaddir(path.join(plugins, dir))) {
      if (!file.startsWith("pulumi-resource-")) continue;
      const head = readHead(path.join(plugins, dir, file));
      if (head.includes(LAUNCHER_SIGNATURE))
        throw new ModeGuardError(`live run refused: ${path.join(dir, file)} is a sandbox plugin`);
    }
  }
}

/** Problems with the plugin's own environment; empty when the sandbox was selected on purpose. */
export function environmentProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!env.STACKYARD_SANDBOX_DIR) problems.push("STACKYARD_SANDBOX_DIR is not set");
  if (!env.PULUMI_HOME || !isSandboxHome(env.PULUMI_HOME))
    problems.push(`PULUMI_HOME is not a sandbox home (no ${SANDBOX_MARKER})`);
  for (const name of ALL_AMBIENT_CREDENTIAL_ENV) {
    const v = env[name];
    if (v && looksReal(v))
      problems.push(`environment variable ${name} holds what looks like a real credential`);
  }
  return problems;
}

/** Credential formats of the real clouds. Sandbox values (e.g. "sandbox", AKIASANDBOX…) never match. */
const REAL_CREDENTIAL = [
  /^do[opr]_v1_[0-9a-f]{64}$/, // DigitalOcean personal/OAuth/refresh tokens
  /^[0-9a-f]{64}$/, // legacy DigitalOcean and Linode personal access tokens
  /^[A-Za-z0-9]{64}$/, // Hetzner Cloud API tokens
  /^(AKIA|ASIA)[A-Z2-7]{16}$/, // AWS access key ids
  /^[A-Za-z0-9/+]{40}$/, // AWS secret access keys
];

export function looksReal(value: string): boolean {
  if (/sandbox/i.test(value)) return false;
  return REAL_CREDENTIAL.some((re) => re.test(value));
}

/** The credential fields of a package's provider config (none for Kubernetes, whose kubeconfig is checked apart). */
export function credentialKeys(pkg: string): string[] {
  return pkg in CREDENTIAL_SCHEMAS ? Object.keys(CREDENTIAL_SCHEMAS[pkg as Cloud].shape) : [];
}

const PUBLIC_DEFAULT_HOSTS = ["api.digitalocean.com", "api.linode.com", "api.hetzner.cloud"];
const S3_COMPATIBLE = [
  /\.backblazeb2\.com$/,
  /\.digitaloceanspaces\.com$/,
  /\.linodeobjects\.com$/,
  /\.your-objectstorage\.com$/,
  /\.wasabisys\.com$/,
];

/** Refusals for one provider's configuration (CheckConfig and Configure both call this). */
export function configFailures(pkg: string, rawConfig: Props): Array<{ property: string; reason: string }> {
  const config = reveal(rawConfig) as Props;
  const failures: Array<{ property: string; reason: string }> = [];
  for (const key of credentialKeys(pkg)) {
    const v = config[key];
    if (typeof v === "string" && looksReal(v))
      failures.push({ property: key, reason: `sandbox refuses a real-looking ${pkg} credential` });
  }
  if (typeof config.profile === "string" && config.profile !== "")
    failures.push({ property: "profile", reason: "sandbox refuses named AWS profiles (real credentials)" });
  const endpoints: Array<[string, unknown, boolean]> = [
    ["apiEndpoint", config.apiEndpoint, false],
    ["spacesEndpoint", config.spacesEndpoint, true],
    ["url", config.url, false],
    ["endpoint", config.endpoint, false],
  ];
  for (const e of asList(config.endpoints))
    for (const [svc, url] of Object.entries(e)) endpoints.push([`endpoints.${svc}`, url, svc === "s3"]);
  for (const [prop, url, s3] of endpoints) {
    const reason = endpointProblem(url, s3);
    if (reason) failures.push({ property: prop, reason });
  }
  if (pkg === "kubernetes") {
    const reason = kubeconfigProblem(config.kubeconfig);
    if (reason) failures.push({ property: "kubeconfig", reason });
  }
  return failures;
}

function endpointProblem(url: unknown, s3Compatible: boolean): string | undefined {
  if (typeof url !== "string" || url === "" || url === UNKNOWN) return undefined;
  let host: string;
  try {
    host = new URL(url.includes("://") ? url : `https://${url}`).hostname;
  } catch {
    return `sandbox refuses an unparsable endpoint`;
  }
  if (isLoopback(host) || PUBLIC_DEFAULT_HOSTS.includes(host)) return undefined;
  if (s3Compatible && S3_COMPATIBLE.some((re) => re.test(host))) return undefined;
  return `sandbox refuses endpoint host ${host}: only loopback, the provider's public default or a known S3-compatible store`;
}

/** A kubeconfig is accepted when absent, unknown (preview), or issued by the sandbox / pointing at loopback. */
function kubeconfigProblem(kubeconfig: unknown): string | undefined {
  if (typeof kubeconfig !== "string" || kubeconfig === "" || kubeconfig === UNKNOWN) return undefined;
  if (!kubeconfig.includes("\n") && !kubeconfig.trim().startsWith("{"))
    return "sandbox refuses a kubeconfig file path (it names a real cluster)";
  if (kubeconfig.includes("stackyard-sandbox-")) return undefined;
  const server =
    /server:\s*"?([^\s"]+)/.exec(kubeconfig)?.[1] ?? /"server"\s*:\s*"([^"]+)"/.exec(kubeconfig)?.[1];
  if (server && isLoopback(new URL(server).hostname)) return undefined;
  return "sandbox refuses a kubeconfig that was not issued by the sandbox";
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
}

function asList(v: unknown): Props[] {
  const x = reveal(v);
  return Array.isArray(x) ? (x.filter((e) => typeof e === "object" && e !== null) as Props[]) : [];
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readHead(file: string): string {
  try {
    const fd = fs.openSync(file, "r");
    const buf = Buffer.alloc(512);
    const n = fs.readSync(fd, buf, 0, 512, 0);
    fs.closeSync(fd);
    return buf.subarray(0, n).toString("utf8");
  } catch {
    return "";
  }
}
