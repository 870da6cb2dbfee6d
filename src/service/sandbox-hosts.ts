import * as path from "node:path";
import type { Logger } from "../infra/observability/logger";
import type { LiveFacts } from "../operations/live-db-node";
import type { PostgresSiteSettings } from "../operations/live-db-settings";
import { observePostgresNode } from "../operations/postgres-node-facts";
import { readFleetEndpoints, nodeLogin } from "../sandbox/hosts/fleet-endpoints";
import { takeFleetLock } from "../sandbox/hosts/fleet-lock";
import { checkHostPrerequisites } from "../sandbox/hosts/host-prerequisites";
import { HostFleet } from "../sandbox/hosts/host-fleet";
import { SandboxCloud } from "../sandbox/sandbox-cloud";
import { sandboxDirFor } from "./sandbox-facts";

export interface SandboxHosts {
  /** The rehearsed sites' databases, read as live mode reads real ones; other sites from the fallback. */
  facts: LiveFacts;
  stop(): Promise<void>;
}

/**
 * The facts of a rehearsed site come from its real PostgreSQL servers, through the same reader as
 * live mode (postgres-node-facts.ts), at the ports the fleet publishes; a site without rehearsed
 * database hosts is answered by `fallback` (the simulated cloud).
 */
export function rehearsedFacts(hostsDir: string, fallback: LiveFacts): LiveFacts {
  return {
    dbNodes: async (site) => {
      const e = readFleetEndpoints(path.join(hostsDir, site));
      const nodes = Object.entries(e?.db?.nodes ?? {});
      if (nodes.length === 0) return fallback.dbNodes(site);
      const login = nodeLogin(nodes[0]![1].dir);
      const s: PostgresSiteSettings = {
        engine: "postgresql",
        ...login,
        tls: "disable",
        connectTimeoutMs: 2000,
        maxReceiverSilenceSeconds: 60,
        nodes: Object.fromEntries(nodes.map(([name, n]) => [name, { host: "127.0.0.1", port: n.port }])),
      };
      const seen = await Promise.all(nodes.map(([name]) => observePostgresNode(name, s)));
      return seen.flatMap((o) => (o.ok ? [o.node] : []));
    },
  };
}

/**
 * STACKYARD_SANDBOX_HOSTS: one fleet per site rehearses its hosts (in the one process holding the
 * fleet lock; other worker processes read what it publishes).
 */
export async function startSandboxHosts(o: {
  sites: readonly string[];
  sandboxDir: string;
  hosts: { dir: string; periodMs: number };
  fallback: LiveFacts;
  logger: Logger;
}): Promise<SandboxHosts> {
  checkHostPrerequisites(o.hosts.dir);
  const release = takeFleetLock(o.hosts.dir);
  const fleets: HostFleet[] = [];
  if (release) {
    for (const site of o.sites)
      fleets.push(
        await HostFleet.start({
          site,
          cloud: new SandboxCloud(sandboxDirFor(o.sandboxDir, site)),
          dir: path.join(o.hosts.dir, site),
          periodMs: o.hosts.periodMs,
          logger: o.logger,
        }),
      );
    o.logger.info("rehearsing the sandbox's hosts on real servers", {
      dir: o.hosts.dir,
      periodMs: o.hosts.periodMs,
    });
  } else {
    o.logger.info("the sandbox's hosts are rehearsed by another process; reading what it publishes", {
      dir: o.hosts.dir,
    });
  }
  return {
    facts: rehearsedFacts(o.hosts.dir, o.fallback),
    stop: async () => {
      await Promise.all(fleets.map((f) => f.stop()));
      release?.();
    },
  };
}
