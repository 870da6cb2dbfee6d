import { z } from "zod";
import type { SiteConfig } from "../programs/site-config";
import { dbKnob } from "./knobs/db-knob";
import { sidekiqKnob } from "./knobs/sidekiq-knob";
import type { Ledger, OperationSummary, QueueSummary } from "./ledger";
import type { LiveDbNode, LiveFacts } from "./live-db-node";
import { OPERATION_STATUSES, isTerminal, type OperationRecord } from "./operation-record";
import { DEFINITIONS, OPERATION_KINDS } from "./registry";
import { median, RUN_DURATION_SAMPLES, type RunDurations } from "./run-durations";
import type { StackFileStore } from "./stack-file-store";
import type { DriftReport } from "./drift-report";
import { NotFoundError } from "../errors";

// One schema for what `GET /v1/sites/:site` answers, what the CLI and chat print and what the
// dashboard shows: the OpenAPI document is generated from it (src/api/openapi.ts).

const seconds = z.number().min(0);
const queuePositionSchema = z
  .object({
    position: z.int().min(1).describe("1 = the next to run on this stack once the running one ends"),
    ahead: z.int().min(0).describe("Operations that run before this one (the running one included)"),
    estimatedWaitSeconds: seconds
      .nullable()
      .describe(
        `Until this one starts: what is left of the running one plus each queued one ahead, each at the median of the stack's last ${RUN_DURATION_SAMPLES} succeeded runs of its kind (of any kind when its own has none); null before the stack has run anything`,
      ),
    ridesOn: z.string().optional().describe("A coalesced request: the queued operation that carries it"),
  })
  .describe("Where a queued operation stands in its stack's queue (computed when read)");
export type QueuePosition = z.infer<typeof queuePositionSchema>;
export { queuePositionSchema };

const opRef = {
  id: z.string(),
  kind: z.enum(OPERATION_KINDS),
  summary: z.string(),
  requester: z.string(),
  createdAt: z.string(),
};

const observedSchema = z
  .object({
    role: z.enum(["primary", "standby", "replica"]),
    lagSeconds: z.number(),
    healthy: z.boolean(),
  })
  .nullable()
  .describe("What the database itself reports (the simulated cloud in the sandbox); null when not observed");

export const siteStateSchema = z.object({
  site: z.string(),
  stackFile: z.string(),
  configRevision: z.int().describe("The stack file's revision (what is wanted)"),
  deployed: z
    .object({
      configRevision: z.int().optional(),
      lastOperationId: z.string().optional(),
      outputs: z.record(z.string(), z.unknown()).optional(),
      updatedAt: z.string().optional(),
      commit: z.string().optional(),
    })
    .describe("What the service recorded at the last deployment (secret outputs redacted)"),
  revision: z.object({
    desired: z.int(),
    deployed: z.int().nullable().describe("null: no deployment recorded yet"),
    differ: z.boolean().nullable().describe("null while the deployed revision is unknown"),
  }),
  sidekiq: z.discriminatedUnion("available", [
    z.object({
      available: z.literal(true),
      path: z.string(),
      scheduler: z.object({ threads: z.int(), queues: z.array(z.string()) }),
      processes: z.int().describe("Pool processes the stack file asks for (the scheduler excluded)"),
      pools: z.array(
        z.object({
          name: z.string(),
          count: z.int(),
          deployedCount: z.int().nullable().describe("From the last deployment's outputs"),
          threads: z.int(),
          queues: z.array(z.string()),
        }),
      ),
    }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ]),
  database: z.discriminatedUnion("available", [
    z.object({
      available: z.literal(true),
      engine: z.enum(["postgres", "mysql", "managed-postgres"]),
      path: z.string(),
      primary: z.object({ name: z.string(), observed: observedSchema }),
      standbys: z.array(
        z.object({
          name: z.string(),
          lagSeconds: z.number().nullable().describe("Replication lag where the database reports it"),
          observed: observedSchema,
        }),
      ),
      fenced: z.array(z.object({ name: z.string(), observed: observedSchema })),
      observation: z.object({
        ok: z.boolean(),
        error: z.string().optional().describe("Why the databases could not be read (then observed is null)"),
      }),
    }),
    z.object({ available: z.literal(false), reason: z.string() }),
  ]),
  operations: z
    .array(
      z.object({
        kind: z.enum(OPERATION_KINDS),
        description: z.string(),
        params: z.record(z.string(), z.unknown()).describe("JSON Schema of the operation's params"),
      }),
    )
    .describe("Operations the service offers, each with the schema its requests are checked against"),
  running: z
    .object({
      ...opRef,
      startedAt: z.string().optional(),
      phase: z
        .string()
        .nullable()
        .describe("The runner's current phase (plan, preview, check, up, verify, …)"),
      elapsedSeconds: seconds.nullable(),
    })
    .nullable(),
  queued: z.array(z.object({ ...opRef, queue: queuePositionSchema })),
  awaitingApproval: z.array(z.object({ ...opRef, expiresAt: z.string().optional() })),
  last: z
    .object({
      ...opRef,
      status: z.enum(OPERATION_STATUSES),
      finishedAt: z.string().optional(),
      reason: z.string().optional(),
    })
    .nullable()
    .describe("The newest operation that ended (rehearsals aside: see `rehearsal`)"),
  drift: z
    .object({
      operationId: z.string(),
      detectedAt: z.string(),
      resources: z
        .number()
        .int()
        .min(0)
        .describe("Distinct resources that drifted or were deleted out of band"),
      drifted: z.array(
        z.object({
          name: z.string(),
          type: z.string(),
          property: z.string(),
          expected: z.unknown(),
          found: z.unknown(),
        }),
      ),
      deleted: z.array(z.object({ name: z.string(), type: z.string() })),
      remediation: z.enum(["none", "refreshed", "revert-requested"]),
    })
    .nullable()
    .describe("The latest drift detection's report (detect-drift); null before the first one"),
  rehearsal: z
    .object({
      operationId: z.string(),
      kind: z.enum(OPERATION_KINDS),
      status: z.enum(OPERATION_STATUSES),
      finishedAt: z.string(),
      href: z.string().describe("The rehearsal's operation record"),
    })
    .nullable()
    .describe(
      'The newest rehearsal that ended ("rehearse": true: run on a sandbox twin of the site, nothing live changed); null before the first',
    ),
});
export type SiteState = z.infer<typeof siteStateSchema>;

export interface SiteStateDeps {
  ledger: Ledger;
  stackFiles: StackFileStore;
  /** Sites this deployment serves. */
  sites: readonly string[];
  /** The databases' own view (sandbox clouds or live PostgreSQL). @defaultValue none: `observation.ok` false */
  facts?: LiveFacts;
  /** Recent run times (the estimates of queued operations' waits). */
  durations: RunDurations;
  /** The site's latest drift report (drift-store.ts). @defaultValue none: `drift` null */
  drift?: { latest(site: string): Promise<DriftReport | undefined> };
  /**
   * The operation ids a stack's queue will run, in order (the running one first): lets a queue
   * position read those records only, not the site's last few hundred.
   */
  runOrder?: (site: string) => Promise<string[]>;
  now?: () => number;
}

/** How far back the overview looks for queued and running operations (a stack runs one at a time). */
const SCAN = 200;

/**
 * A site's state at a glance, from its stack file (wanted), the ledger (deployed, operations) and
 * the databases' own report. The API, the CLI (through the API), chat and the dashboard read it here.
 */
export class SiteStateReader {
  private readonly now: () => number;

  constructor(private readonly deps: SiteStateDeps) {
    this.now = deps.now ?? Date.now;
  }

  async read(site: string): Promise<SiteState> {
    if (!this.deps.sites.includes(site))
      throw new NotFoundError("SITE_NOT_FOUND", `no site "${site}" (sites: ${this.deps.sites.join(", ")})`, {
        field: "site",
        site,
      });
    const config = this.deps.stackFiles.load(site);
    const [stored, ops, estimates, database, drift] = await Promise.all([
      this.deps.ledger.siteState(site),
      this.deps.ledger.summariesForSite(site, SCAN),
      this.estimator(site),
      this.database(config),
      this.deps.drift?.latest(site),
    ]);
    const { pendingWrite: _omit, lastRehearsal, ...deployed } = stored;
    const deployedRevision = deployed.configRevision ?? null;
    const queue = this.queueOf(ops, estimates);
    const runningOp = ops.find((o) => o.status === "running");
    // A rehearsal changed nothing live: it is the site's `rehearsal`, not its last operation.
    const lastOp = ops.find((o) => isTerminal(o.status) && !o.rehearsal);
    const state: SiteState = {
      site,
      stackFile: `stacks/Pulumi.${site}.yaml`,
      configRevision: config.configRevision,
      deployed,
      revision: {
        desired: config.configRevision,
        deployed: deployedRevision,
        differ: deployedRevision === null ? null : deployedRevision !== config.configRevision,
      },
      sidekiq: sidekiqOf(config, deployed.outputs),
      database,
      operations: DEFINITIONS.map((d) => ({
        kind: d.kind,
        description: d.description,
        params: paramsJsonSchema(d.paramsSchema),
      })),
      running: runningOp
        ? {
            ...ref(runningOp),
            startedAt: runningOp.startedAt,
            phase: ((await this.deps.ledger.lastEvent(runningOp.id, "phase"))?.data.phase as string) ?? null,
            elapsedSeconds: runningOp.startedAt
              ? Math.max(0, (this.now() - Date.parse(runningOp.startedAt)) / 1000)
              : null,
          }
        : null,
      queued: queue.entries.map((e) => ({ ...ref(e.op), queue: e.position })),
      awaitingApproval: ops
        .filter((o) => o.status === "awaiting-approval")
        .reverse()
        .map((o) => ({ ...ref(o), expiresAt: o.approval?.expiresAt })),
      last: lastOp
        ? { ...ref(lastOp), status: lastOp.status, finishedAt: lastOp.finishedAt, reason: lastOp.reason }
        : null,
      drift: drift
        ? {
            operationId: drift.operationId,
            detectedAt: drift.detectedAt,
            resources: drift.resources,
            drifted: drift.drifted.map(({ name, type, property, expected, found }) => ({
              name,
              type,
              property,
              expected,
              found,
            })),
            deleted: drift.deleted.map(({ name, type }) => ({ name, type })),
            remediation: drift.remediation,
          }
        : null,
      rehearsal: lastRehearsal
        ? ({
            ...lastRehearsal,
            href: `/v1/operations/${lastRehearsal.operationId}`,
          } as SiteState["rehearsal"])
        : null,
    };
    return siteStateSchema.parse(state);
  }

  /** A queued operation's place in its stack's queue (a rider: its carrier's); undefined for any other status. */
  async queuePosition(rec: Pick<OperationRecord, "id" | "site" | "status" | "coalescedInto">) {
    if (rec.status !== "queued") return undefined;
    const carrier = rec.coalescedInto ?? rec.id;
    // The stack's run order when the queue says it (a few records), else the site's recent history.
    const [order, estimate] = await Promise.all([this.deps.runOrder?.(rec.site), this.estimator(rec.site)]);
    let ops =
      order && order.includes(carrier)
        ? await this.deps.ledger.queueSummaries([...new Set(order)])
        : undefined;
    ops ??= await this.deps.ledger.queueSummariesForSite(rec.site, SCAN);
    const queue = this.queueOf(ops, estimate);
    const entry = queue.entries.find((e) => e.op.id === carrier);
    if (!entry) return undefined;
    return rec.coalescedInto ? { ...entry.position, ridesOn: rec.coalescedInto } : entry.position;
  }

  /**
   * The stack's queue in submission order (riders excluded: they run nothing), each with the wait
   * before it: what is left of the running operation, then each one ahead at its estimate.
   */
  private queueOf<O extends QueueSummary>(ops: O[], estimate: (kind: string) => number | undefined) {
    const running = ops.find((o) => o.status === "running");
    const queued = ops
      .filter((o) => o.status === "queued" && !o.coalescedInto)
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    let wait: number | undefined = 0;
    if (running) {
      const e = estimate(running.kind);
      const elapsed = running.startedAt ? (this.now() - Date.parse(running.startedAt)) / 1000 : 0;
      wait = e === undefined ? undefined : Math.max(0, e - elapsed);
    }
    const entries = queued.map((op, i) => {
      const position: QueuePosition = {
        position: i + 1,
        ahead: i + (running ? 1 : 0),
        estimatedWaitSeconds: wait === undefined ? null : Math.round(wait * 10) / 10,
      };
      const e = estimate(op.kind);
      wait = wait === undefined || e === undefined ? undefined : wait + e;
      return { op, position };
    });
    return { entries };
  }

  /** Median run time of a kind on this stack, or of every kind it ran when that one never ran. */
  private async estimator(site: string): Promise<(kind: string) => number | undefined> {
    const samples = await this.deps.durations.samples(site, OPERATION_KINDS);
    const all = median(Object.values(samples).flat());
    return (kind) => median(samples[kind] ?? []) ?? all;
  }

  private async database(config: SiteConfig): Promise<SiteState["database"]> {
    const r = dbKnob(config);
    if (!r.ok) return { available: false, reason: r.reason };
    const { primary, replicas, nodes, engine, path } = r.knob;
    let observed: LiveDbNode[] = [];
    let observation: { ok: boolean; error?: string } = { ok: true };
    if (!this.deps.facts) observation = { ok: false, error: "this process does not observe the databases" };
    else {
      try {
        const got = await this.deps.facts.dbNodes(config.site);
        if (got === undefined) observation = { ok: false, error: "this deployment cannot observe them" };
        else observed = got;
      } catch (err) {
        observation = { ok: false, error: (err as Error).message };
      }
    }
    const seen = (name: string) => {
      const n = observed.find((o) => o.name === name);
      return n ? { role: n.role, lagSeconds: n.replicationLagSeconds, healthy: n.healthy } : null;
    };
    return {
      available: true,
      engine,
      path,
      primary: { name: primary, observed: seen(primary) },
      standbys: replicas.map((name) => ({
        name,
        lagSeconds: seen(name)?.lagSeconds ?? null,
        observed: seen(name),
      })),
      fenced: nodes
        .filter((n) => n !== primary && !replicas.includes(n))
        .map((name) => ({ name, observed: seen(name) })),
      observation,
    };
  }
}

/** The stack file's pools, each with the count the last deployment reported. */
function sidekiqOf(config: SiteConfig, outputs: Record<string, unknown> | undefined): SiteState["sidekiq"] {
  const k = sidekiqKnob(config);
  if (!k.ok) return { available: false, reason: k.reason };
  const deployedPools = (outputs?.sidekiqPools ?? {}) as Record<string, { count?: unknown }>;
  const pools = Object.entries(k.spec.pools).map(([name, p]) => {
    const c = deployedPools[name]?.count;
    return {
      name,
      count: p.count,
      deployedCount: typeof c === "number" ? c : null,
      threads: p.threads,
      queues: [...p.queues],
    };
  });
  return {
    available: true,
    path: k.path,
    scheduler: { threads: k.spec.scheduler.threads, queues: [...k.spec.scheduler.queues] },
    processes: pools.reduce((n, p) => n + p.count, 0),
    pools,
  };
}

function ref(o: OperationSummary) {
  return {
    id: o.id,
    kind: o.kind,
    summary: o.plan?.summary ?? o.kind,
    requester: o.requester.via ? `${o.requester.tokenId} via ${o.requester.via}` : o.requester.tokenId,
    createdAt: o.createdAt,
  };
}

function paramsJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return rest;
}
