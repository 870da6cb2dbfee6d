import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { envLine } from "./user-data";

/** The last deploy run of one rehearsed host, as its deploy unit's journal would say it. */
const deployRunSchema = z.object({
  ok: z.boolean(),
  at: z.string(),
  /** PG_ROLE the role hook printed: primary, standby or fenced. */
  role: z.string().optional(),
  /** The last lines the run wrote to stderr, when it failed. */
  error: z.string().optional(),
});

/**
 * Where a site's rehearsed hosts answer, written by the fleet (`<hosts dir>/<site>/endpoints.json`)
 * and read by the workers' facts, the tests and an operator. Ports and states only: no secret.
 */
export const fleetEndpointsSchema = z.object({
  site: z.string(),
  updatedAt: z.string(),
  /** The forwarder standing for the primary's private name (db-primary.int): port on 127.0.0.1. */
  primaryName: z.object({ name: z.string(), port: z.number(), target: z.string().optional() }).optional(),
  db: z
    .object({
      nodes: z.record(
        z.string(),
        z.object({
          dropletId: z.string(),
          port: z.number(),
          dir: z.string(),
          lastDeploy: deployRunSchema.optional(),
        }),
      ),
    })
    .optional(),
  redis: z
    .object({
      port: z.number(),
      /** An app-side client: with the password the apps get, and without one. */
      clientCheck: z.object({ withPassword: z.string(), withoutPassword: z.string() }).optional(),
    })
    .optional(),
});
export type FleetEndpoints = z.infer<typeof fleetEndpointsSchema>;
export type HostDeployRun = z.infer<typeof deployRunSchema>;

export const endpointsFile = (siteDir: string) => path.join(siteDir, "endpoints.json");

export function writeFleetEndpoints(siteDir: string, e: FleetEndpoints): void {
  const file = endpointsFile(siteDir);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(e, null, 2) + "\n", { mode: 0o644 });
  fs.renameSync(`${file}.tmp`, file);
}

/** The site's endpoints, or undefined while no fleet has written them. */
export function readFleetEndpoints(siteDir: string): FleetEndpoints | undefined {
  let text: string;
  try {
    text = fs.readFileSync(endpointsFile(siteDir), "utf8");
  } catch {
    return undefined;
  }
  return fleetEndpointsSchema.parse(JSON.parse(text));
}

/** The app's database login on a rehearsed node, from the host.env the host was given (mode 0600). */
export function nodeLogin(nodeDir: string): { user: string; password: string; database: string } {
  const env = fs.readFileSync(path.join(nodeDir, "opt-mastodon", "host.env"), "utf8");
  const get = (k: string) => {
    const v = envLine(env, k);
    if (v === undefined) throw new Error(`${nodeDir}: host.env has no ${k}`);
    return v;
  };
  return { user: get("DB_USER"), password: get("DB_PASS"), database: get("DB_NAME") };
}
