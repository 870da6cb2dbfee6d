import type * as provider from "@pulumi/pulumi/provider";
import { appendCall } from "./call-log";
import { CloudRecord, CloudStore } from "./cloud-store";
import { FaultInjector, SimulatedApiError, THROTTLE_RETRIES, sleep } from "./fault-plan";
import { Props, containsUnknown, getPath, parseUrn, sameValue } from "./property-values";
import { Allocator, ProviderConfig, ResourceSpec, SpecContext } from "./resource-specs/spec";

// One Pulumi provider, generic over a package's resource specs. The engine talks to it exactly as
// to the real plugin; it answers from the simulated cloud in the store. Each engine-visible call
// (create/read/update/delete/invoke) goes through `call`, which logs start and end, adds the
// planned latency and throttling, and reports errors the way a cloud API would.

export type InvokeFn = (
  args: Props,
  ctx: { store: CloudStore; config: ProviderConfig; alloc: Allocator },
) => Props;

export interface PackageSpecs {
  name: string;
  version: string;
  resources: ResourceSpec[];
  invokes: Record<string, InvokeFn>;
}

export class SandboxProvider implements provider.Provider {
  readonly version: string;
  /** Set by Configure (see plugin-server.ts); read by specs such as the AWS region. */
  config: ProviderConfig = {};
  /** Digests of the credentials Configure gave this provider (plugin-server.ts); logged on every call. */
  credentials?: Record<string, string>;
  private readonly specs = new Map<string, ResourceSpec>();
  private readonly faults: FaultInjector;
  private readonly alloc: Allocator;

  constructor(
    private readonly pkg: PackageSpecs,
    private readonly store: CloudStore,
  ) {
    this.version = pkg.version;
    for (const s of pkg.resources) this.specs.set(s.type, s);
    this.faults = new FaultInjector(store);
    this.alloc = new Allocator(store);
  }

  private spec(type: string): ResourceSpec {
    const s = this.specs.get(type);
    if (!s) throw new Error(`sandbox: ${type} is not simulated`);
    return s;
  }

  async check(urn: string, olds: Props, news: Props): Promise<provider.CheckResult> {
    const { type, name } = parseUrn(urn);
    const spec = this.spec(type);
    const hasOlds = olds && Object.keys(olds).length > 0;
    const inputs = {
      ...news,
      ...(spec.defaults?.(news, hasOlds ? olds : undefined, { name, config: this.config }) ?? {}),
    };
    return { inputs, failures: spec.validate?.(inputs) ?? [] };
  }

  async diff(id: string, urn: string, olds: Props, news: Props): Promise<provider.DiffResult> {
    const { type } = parseUrn(urn);
    const spec = this.spec(type);
    await this.holdIfPlanned("diff", urn, type, id);
    // Compare against the inputs the cloud was given; the engine's `olds` are outputs (inputs + computed).
    const rec = this.store.get(type, id);
    // A seeded pre-existing resource (sandbox-cloud seedExisting) knows only some facts; the rest match the program.
    const stored = rec?.sim.adoptable ? { ...news, ...rec.inputs } : rec?.inputs;
    const before: Props = stored ?? Object.fromEntries(Object.keys(news).map((k) => [k, olds[k]]));
    const keys = new Set([...Object.keys(before), ...Object.keys(news)].filter((k) => !k.startsWith("__")));
    const changed = [...keys].filter((k) => containsUnknown(news[k]) || !sameValue(before[k], news[k]));
    const replaces = new Set<string>();
    for (const p of spec.replaceOn ?? []) {
      const top = p.split(".")[0]!;
      if (!changed.includes(top)) continue;
      if (containsUnknown(getPath(news, p)) || !sameValue(getPath(before, p), getPath(news, p)))
        replaces.add(top);
    }
    return {
      changes: changed.length > 0,
      replaces: [...replaces],
      deleteBeforeReplace: replaces.size > 0 && (spec.deleteBeforeReplace?.(news) ?? false),
    };
  }

  async create(urn: string, inputs: Props): Promise<provider.CreateResult> {
    const { type, name, stack } = parseUrn(urn);
    const spec = this.spec(type);
    return this.handle("create", urn, type, undefined, async () => {
      const plan = this.faults.plan();
      const ordinal = this.faults.countCreate(plan, type);
      const failure = this.faults.failureFor(plan, type, ordinal);
      if (failure) {
        this.log("create", "fault", urn, type, undefined, failure.message);
        throw failure;
      }
      const crash = this.faults.crashFor(plan, type, ordinal);
      if (crash === "before-cloud-write") this.crash(urn, type, undefined);
      const ctx = this.context(name, stack, "", {});
      const id = spec.newId(inputs, ctx);
      if (this.store.get(type, id)) throw new SimulatedApiError(409, `${type} "${id}" already exists`);
      const rec = this.write(spec, { ...ctx, id }, urn, inputs, undefined);
      if (crash === "cloud-write") this.crash(urn, type, id);
      return { id, outs: rec.outputs };
    });
  }

  /** What a resource spec sees of the simulated account for one resource. */
  private context(name: string, stack: string, id: string, memo: Props): SpecContext {
    return { store: this.store, alloc: this.alloc, config: this.config, name, stack, id, memo };
  }

  async read(id: string, urn: string): Promise<provider.ReadResult> {
    const { type } = parseUrn(urn);
    this.spec(type);
    return this.handle("read", urn, type, id, async () => {
      const rec = this.store.get(type, id);
      // An empty id tells the engine the resource is gone (refresh then drops it from state).
      if (!rec) return { id: "", props: {} };
      // The first read of a seeded resource adopts it: from now on the stack owns it.
      if (rec.sim.adoptable && rec.urn === "")
        this.store.mutate(type, id, (r) => Object.assign(r, { urn, stack: parseUrn(urn).stack }));
      return { id, props: rec.outputs, inputs: rec.inputs };
    });
  }

  async update(id: string, urn: string, _olds: Props, news: Props): Promise<provider.UpdateResult> {
    const { type, name, stack } = parseUrn(urn);
    const spec = this.spec(type);
    return this.handle("update", urn, type, id, async () => {
      const prior = this.store.get(type, id);
      if (!prior) throw new SimulatedApiError(404, `${type} "${id}" not found`);
      const ctx = this.context(name, stack, id, { ...((prior.sim.memo as Props) ?? {}) });
      return { outs: this.write(spec, ctx, urn, news, prior).outputs };
    });
  }

  async delete(id: string, urn: string, props: Props): Promise<void> {
    const { type } = parseUrn(urn);
    const spec = this.spec(type);
    await this.handle("delete", urn, type, id, async () => {
      const rec = this.store.get(type, id);
      // Like the real providers, a resource already gone (404) counts as deleted.
      if (!rec) return;
      spec.beforeDelete?.(rec.outputs, { store: this.store, id });
      this.store.remove(type, id);
      spec.afterDelete?.(rec.outputs ?? props, { store: this.store, id });
    });
  }

  async invoke(token: string, args: Props): Promise<provider.InvokeResult> {
    const fn = this.pkg.invokes[token];
    if (!fn) throw new Error(`sandbox: function ${token} is not simulated`);
    return this.handle("invoke", undefined, token, undefined, async () => ({
      outputs: fn(args, { store: this.store, config: this.config, alloc: this.alloc }),
    }));
  }

  /** Computes outputs and simulated state, then stores the record (create when prior is absent). */
  private write(
    spec: ResourceSpec,
    ctx: SpecContext,
    urn: string,
    inputs: Props,
    prior: CloudRecord | undefined,
  ): CloudRecord {
    const withPrior: SpecContext = { ...ctx, prior: prior?.outputs, priorSim: prior?.sim };
    const computed = spec.computed?.(inputs, withPrior) ?? {};
    const sim = spec.sim?.(inputs, withPrior) ?? { ...(prior?.sim ?? {}), status: "active" };
    const now = new Date().toISOString();
    const rec: CloudRecord = {
      package: this.pkg.name,
      type: spec.type,
      id: ctx.id,
      urn,
      stack: ctx.stack,
      inputs,
      outputs: { ...inputs, ...computed },
      sim: { ...sim, memo: ctx.memo },
      createdAt: prior?.createdAt ?? now,
      updatedAt: now,
    };
    this.store.put(rec);
    spec.afterWrite?.(inputs, withPrior);
    return rec;
  }

  /** Wraps one engine-visible call: latency, throttling with internal retries, and the call log. */
  private async handle<T>(
    method: string,
    urn: string | undefined,
    type: string,
    id: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    this.log(method, "start", urn, type, id);
    try {
      const plan = this.faults.plan();
      await this.faults.latency(plan);
      await this.holdIfPlanned(method, urn, type, id);
      for (let attempt = 0; this.faults.takeThrottle(plan, type); attempt++) {
        this.log(method, "throttled", urn, type, id, "429 Too Many Requests");
        // The real providers' HTTP clients retry 429s with backoff; only a persistent 429 reaches the engine.
        if (attempt >= THROTTLE_RETRIES)
          throw new SimulatedApiError(
            429,
            `429 Too Many Requests: giving up after ${THROTTLE_RETRIES} retries`,
          );
        await sleep(25 * 2 ** attempt);
      }
      const result = await fn();
      this.log(
        method,
        "end",
        urn,
        type,
        id ?? (result as { id?: string })?.id,
        undefined,
        Date.now() - started,
      );
      return result;
    } catch (e) {
      this.log(method, "error", urn, type, id, (e as Error).message, Date.now() - started);
      throw e;
    }
  }

  /** The fault plan's `hold`: this call waits for the test's release (see fault-plan.ts). */
  private async holdIfPlanned(
    method: string,
    urn: string | undefined,
    type: string,
    id?: string,
  ): Promise<void> {
    const plan = this.faults.plan();
    if (!this.faults.takeHold(plan, method, type)) return;
    this.log(method, "held", urn, type, id);
    await this.faults.awaitRelease(plan);
  }

  private crash(urn: string, type: string, id: string | undefined): never {
    this.log("create", "crash", urn, type, id, "plugin killed mid-create (fault plan)");
    process.kill(process.pid, "SIGKILL");
    throw new Error("unreachable: SIGKILL did not stop the plugin");
  }

  private log(
    method: string,
    phase: Parameters<typeof appendCall>[1]["phase"],
    urn: string | undefined,
    type: string,
    id?: string,
    message?: string,
    ms?: number,
  ): void {
    appendCall(this.store.dir, {
      package: this.pkg.name,
      method,
      phase,
      type,
      urn,
      id,
      stack: urn ? parseUrn(urn).stack : undefined,
      ...(this.credentials ? { credentials: this.credentials } : {}),
      ...(ms !== undefined ? { ms } : {}),
      ...(message ? { message } : {}),
    });
  }
}
