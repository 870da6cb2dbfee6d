import type { SiteConfig } from "../programs/site-config";
import { dbKnob } from "./knobs/db-knob";
import type { LiveDbNode, LiveFacts } from "./live-db-node";

/**
 * What the hosts must show after an operation that moves a self-managed database topology: the
 * cloud change (tags, DNS, firewalls) is only the request; the operation is done when each database
 * host's role agent acted on it. Read through the same live facts as the failover gates (the real
 * databases in live mode, the simulated hosts in the sandbox).
 */
export interface HostExpectation {
  primary: string;
  standbys: string[];
  /** Nodes in neither knob: they must accept no writes (stopped, unreachable, or in recovery). */
  fenced: string[];
  /** A standby counts as following when it streams with at most this lag. */
  maxLagSeconds: number;
}

/** One node, as expected and as observed. */
export interface HostObservation {
  node: string;
  expected: "primary" | "standby" | "fenced";
  /** What the facts said: its role and health, or `unobserved` (stopped or unreachable). */
  observed: string;
  ok: boolean;
}

export interface HostConvergence {
  converged: boolean;
  observations: HostObservation[];
  /** Milliseconds from the end of the update to the last observation. */
  waitedMs: number;
  /** Rounds of observation. */
  rounds: number;
  /** Why the facts could not be read in the last round, if they could not. */
  factsError?: string;
}

/**
 * The host state a config's database knobs ask for, or undefined where hosts do not follow roles
 * (no database, or a managed cluster whose provider performs the promotion itself).
 */
export function expectedHosts(config: SiteConfig, maxLagSeconds: number): HostExpectation | undefined {
  const r = dbKnob(config);
  if (!r.ok || r.knob.engine === "managed-postgres") return undefined;
  const { primary, replicas, nodes } = r.knob;
  return {
    primary,
    standbys: [...replicas],
    fenced: nodes.filter((n) => n !== primary && !replicas.includes(n)),
    maxLagSeconds,
  };
}

function describeNode(n: LiveDbNode | undefined): string {
  if (!n) return "unobserved";
  const health = n.healthy ? "healthy" : `unhealthy${n.detail ? ` (${n.detail})` : ""}`;
  return n.role === "primary"
    ? `primary, ${health}`
    : `${n.role}, ${health}, lag ${n.replicationLagSeconds} s`;
}

/** One round: each expected node against what the facts report. */
export function observeHosts(expect: HostExpectation, nodes: LiveDbNode[]): HostObservation[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const out: HostObservation[] = [];
  const p = byName.get(expect.primary);
  out.push({
    node: expect.primary,
    expected: "primary",
    observed: describeNode(p),
    ok: p?.role === "primary" && p.healthy,
  });
  for (const name of expect.standbys) {
    const s = byName.get(name);
    out.push({
      node: name,
      expected: "standby",
      observed: describeNode(s),
      ok:
        s !== undefined &&
        s.role !== "primary" &&
        s.healthy &&
        s.replicationLagSeconds <= expect.maxLagSeconds,
    });
  }
  for (const name of expect.fenced) {
    const f = byName.get(name);
    out.push({ node: name, expected: "fenced", observed: describeNode(f), ok: f?.role !== "primary" });
  }
  return out;
}

/** The observations that did not hold, as one line for a failure message. */
export function unconvergedSummary(c: HostConvergence): string {
  const bad = c.observations.filter((o) => !o.ok);
  const seen = bad.map((o) => `${o.node}: expected ${o.expected}, observed ${o.observed}`).join("; ");
  const facts = c.factsError ? `; facts: ${c.factsError}` : "";
  return `the hosts did not reach the new topology within ${Math.round(c.waitedMs / 1000)} s (${c.rounds} observations): ${seen || "no node observed"}${facts}`;
}

export interface ConvergenceWait {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Observes until every node holds or the time is up; the last round is what the record keeps. */
export async function awaitHosts(
  site: string,
  expect: HostExpectation,
  facts: LiveFacts,
  wait: ConvergenceWait,
): Promise<HostConvergence> {
  const now = wait.now ?? Date.now;
  const sleep = wait.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const start = now();
  let rounds = 0;
  for (;;) {
    rounds++;
    let observations: HostObservation[];
    let factsError: string | undefined;
    try {
      observations = observeHosts(expect, (await facts.dbNodes(site)) ?? []);
    } catch (err) {
      factsError = (err as Error).message;
      observations = observeHosts(expect, []);
    }
    const converged = factsError === undefined && observations.every((o) => o.ok);
    const waitedMs = now() - start;
    if (converged || waitedMs >= wait.timeoutMs || wait.signal?.aborted)
      return { converged, observations, waitedMs, rounds, ...(factsError ? { factsError } : {}) };
    await sleep(Math.min(wait.intervalMs, Math.max(0, wait.timeoutMs - waitedMs)));
  }
}
