import * as fs from "node:fs";
import * as path from "node:path";
import type { Logger } from "../../infra/observability/logger";
import type { CloudRecord } from "../cloud-store";
import { reveal } from "../property-values";
import { SandboxCloud, TYPES } from "../sandbox-cloud";
import { RehearsedDbHost, type DbHostFiles } from "./db-host";
import { writeFleetEndpoints, type FleetEndpoints, type HostDeployRun } from "./fleet-endpoints";
import { MetadataService } from "./metadata-service";
import { NameForwarder } from "./name-forwarder";
import { RehearsedRedisHost, type RedisClientCheck } from "./redis-host";
import { bootFiles, envLine } from "./user-data";

const SPACES_OBJECT = "digitalocean:index/spacesBucketObject:SpacesBucketObject";
const DNS_RECORD = "digitalocean:index/dnsRecord:DnsRecord";

export interface FleetOptions {
  site: string;
  cloud: SandboxCloud;
  /** This site's hosts folder: one folder per droplet, and endpoints.json. */
  dir: string;
  /** How often each host's deploy unit runs (the hosts' timer is one minute; a rehearsal is quicker). */
  periodMs: number;
  logger: Logger;
}

/** A droplet as the fleet reads it from the cloud: its family and what its deploy unit would pull. */
interface DropletView {
  rec: CloudRecord;
  name: string;
  family: string;
  privateIp: string;
  boot: ReadonlyMap<string, string>;
  published: Record<string, string>;
}

interface DbMember {
  host: RehearsedDbHost;
  busy: boolean;
  last?: HostDeployRun;
}

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(reveal(v)));

/**
 * The hosts of one sandbox site, rehearsed on this machine: every database droplet gets a real
 * PostgreSQL, every Redis droplet a real redis-server, each from the files its program rendered
 * (its user data and its family's objects in the deploy bucket). Each period the fleet reads the
 * simulated cloud, adds hosts for new droplets, removes those of deleted ones (their disk goes with
 * them) and runs each database host's deploy unit, which converges it to its current tags. The
 * metadata service answers each droplet's tags from the cloud; the primary's private name forwards
 * to the host its DNS record points at. Faults: a droplet whose role agent is `stuck` is not run;
 * `promotion-fails` makes its container runtime refuse to promote.
 */
export class HostFleet {
  private readonly db = new Map<string, DbMember>();
  private redis?: { dropletId: string; host: RehearsedRedisHost; check?: RedisClientCheck };
  private primaryTarget?: string;
  private primaryNameValue?: string;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private lastWritten = "";

  private constructor(
    private readonly o: FleetOptions,
    private readonly metadata: MetadataService,
    private readonly forwarder: NameForwarder,
  ) {}

  static async start(o: FleetOptions): Promise<HostFleet> {
    fs.mkdirSync(o.dir, { recursive: true, mode: 0o711 });
    fs.chmodSync(o.dir, 0o711);
    const cloud = o.cloud;
    const metadata = await MetadataService.start((id) => {
      const rec = cloud.get(TYPES.droplet, id);
      const tags = rec ? reveal(rec.outputs.tags ?? rec.inputs.tags) : undefined;
      return Array.isArray(tags) ? tags.map(String) : undefined;
    });
    let fleet: HostFleet | undefined;
    const forwarder = await NameForwarder.start(() => fleet?.primaryPort());
    fleet = new HostFleet(o, metadata, forwarder);
    fleet.schedule(0);
    return fleet;
  }

  /** Runs one reconcile now (tests; the timer runs them otherwise) and waits for its deploy runs. */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.reconcile().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    for (const m of this.db.values()) m.host.stop("fast");
    this.redis?.host.stop();
    await Promise.all([this.metadata.close(), this.forwarder.close()]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick()
        .catch((err) => this.o.logger.warn("rehearsed hosts: reconcile failed", { site: this.o.site, err }))
        .finally(() => this.schedule(this.o.periodMs));
    }, ms);
    this.timer.unref();
  }

  private primaryPort(): number | undefined {
    return this.primaryTarget ? this.db.get(this.primaryTarget)?.host.port : undefined;
  }

  private droplets(): DropletView[] {
    const { cloud, site } = this.o;
    const objects = cloud.list(SPACES_OBJECT, site);
    const out: DropletView[] = [];
    for (const rec of cloud.list(TYPES.droplet, site)) {
      const boot = bootFiles(str(rec.inputs.userData));
      const conf = boot.get("/etc/stackyard/deploy.conf");
      const family = conf && envLine(conf, "FAMILY");
      const bucket = conf && envLine(conf, "DEPLOY_BUCKET");
      if (!family || !bucket) continue;
      const published: Record<string, string> = {};
      for (const o of objects) {
        const key = str(o.inputs.key);
        if (str(o.inputs.bucket) === bucket && key.startsWith(`${family}/`))
          published[key.slice(family.length + 1)] = str(o.inputs.content);
      }
      out.push({
        rec,
        name: str(rec.outputs.name ?? rec.inputs.name) || rec.id,
        family,
        privateIp: str(rec.outputs.ipv4AddressPrivate),
        boot,
        published,
      });
    }
    return out;
  }

  private dbFiles(d: DropletView): DbHostFiles | undefined {
    const p = d.published;
    const roleEnv = d.boot.get("/opt/stackyard/role-env");
    const deploy = d.boot.get("/opt/stackyard/deploy");
    if (!roleEnv || !deploy || !p["postgresql.conf"] || !p["host.env"]) return undefined;
    return {
      roleEnv,
      deploy,
      hostEnv: p["host.env"],
      postgresqlConf: p["postgresql.conf"],
      pgHba: p["pg_hba.conf"] ?? "",
      replicationSql: p["replication.sql"] ?? "",
      compose: p["docker-compose.yml"] ?? "",
    };
  }

  private async reconcile(): Promise<void> {
    const views = this.droplets();
    const dbViews = views.flatMap((d) => {
      const files = this.dbFiles(d);
      return files ? [{ d, files }] : [];
    });
    // Deleted droplets: their host stops and its disk goes.
    for (const [id, m] of this.db) {
      if (dbViews.some((v) => v.d.rec.id === id)) continue;
      m.host.stop("immediate");
      fs.rmSync(m.host.opts.dir, { recursive: true, force: true });
      this.db.delete(id);
      this.o.logger.info("rehearsed hosts: droplet deleted, its database host removed", {
        site: this.o.site,
        node: m.host.name,
      });
    }
    for (const { d, files } of dbViews) {
      const m = this.db.get(d.rec.id);
      if (m) {
        if (!m.busy) m.host.lay(files);
        continue;
      }
      const host = await RehearsedDbHost.create(
        {
          name: d.name,
          dir: path.join(this.o.dir, d.name),
          metadataUrl: this.metadata.urlFor(d.rec.id),
          primaryPort: this.forwarder.port,
        },
        files,
      );
      this.db.set(d.rec.id, { host, busy: false });
    }
    this.resolvePrimary(views, dbViews[0]?.files.hostEnv);
    // Each host's deploy unit runs on its own: a slow base backup on one never delays another's promotion.
    for (const [id, m] of this.db) {
      if (m.busy || this.stopped) continue;
      const agent = this.o.cloud.get(TYPES.droplet, id)?.sim.roleAgent;
      if (agent === "stuck") continue;
      m.busy = true;
      void m.host
        .deploy(agent === "promotion-fails" ? "promotion-fails" : undefined)
        .then((r) => this.noteDeploy(m, r))
        .finally(() => {
          m.busy = false;
          this.publish();
        });
    }
    await this.ensureRedis(views).catch((err) =>
      this.o.logger.warn("rehearsed hosts: redis did not start", { site: this.o.site, err }),
    );
    this.publish();
  }

  private noteDeploy(m: DbMember, r: { ok: boolean; stderr: string; roleEnv: string }): void {
    const role = /^PG_ROLE=(.*)$/m.exec(r.roleEnv)?.[1];
    const error = r.ok ? undefined : r.stderr.trim().split("\n").slice(-3).join(" | ");
    const next: HostDeployRun = {
      ok: r.ok,
      at: new Date().toISOString(),
      ...(role ? { role } : {}),
      ...(error ? { error } : {}),
    };
    if (m.last?.ok !== next.ok || m.last?.role !== next.role)
      (r.ok ? this.o.logger.info : this.o.logger.warn).call(this.o.logger, "rehearsed hosts: deploy run", {
        site: this.o.site,
        node: m.host.name,
        ok: r.ok,
        role,
        ...(error ? { error } : {}),
      });
    m.last = next;
  }

  /** The droplet the primary's private name points at, by its DNS record's address. */
  private resolvePrimary(views: DropletView[], hostEnv: string | undefined): void {
    const name = hostEnv ? envLine(hostEnv, "PRIMARY_HOST") : undefined;
    this.primaryNameValue = name;
    if (!name) {
      this.primaryTarget = undefined;
      return;
    }
    const rec = this.o.cloud
      .list(DNS_RECORD, this.o.site)
      .find((r) => `${str(r.inputs.name)}.${str(r.inputs.domain)}` === name);
    const ip = rec ? str(rec.outputs.value ?? rec.inputs.value) : "";
    this.primaryTarget = views.find((v) => ip !== "" && v.privateIp === ip)?.rec.id;
  }

  private async ensureRedis(views: DropletView[]): Promise<void> {
    const d = views.find((v) => v.family === "redis" && v.published["redis.conf"]);
    if (this.redis && this.redis.dropletId !== d?.rec.id) {
      this.redis.host.stop();
      this.redis = undefined;
    }
    if (!d || this.redis) return;
    const host = await RehearsedRedisHost.start(path.join(this.o.dir, d.name), d.published["redis.conf"]!);
    this.redis = { dropletId: d.rec.id, host };
    // An app-side client, with the password the web family's host.env gives the apps.
    const appEnv = views.find((v) => v.family === "web")?.published["host.env"];
    const password = appEnv ? envLine(appEnv, "REDIS_PASSWORD") : undefined;
    if (password) {
      this.redis.check = await host.clientCheck(password);
      this.o.logger.info("rehearsed hosts: redis answers the apps' client", {
        site: this.o.site,
        withPassword: this.redis.check.withPassword,
        withoutPassword: this.redis.check.withoutPassword,
      });
    }
  }

  private publish(): void {
    const nodes: NonNullable<FleetEndpoints["db"]>["nodes"] = {};
    for (const [id, m] of this.db)
      nodes[m.host.name] = {
        dropletId: id,
        port: m.host.port,
        dir: m.host.opts.dir,
        ...(m.last ? { lastDeploy: m.last } : {}),
      };
    const target = this.primaryTarget ? this.db.get(this.primaryTarget)?.host.name : undefined;
    const e: Omit<FleetEndpoints, "updatedAt"> = {
      site: this.o.site,
      ...(this.primaryNameValue
        ? {
            primaryName: {
              name: this.primaryNameValue,
              port: this.forwarder.port,
              ...(target ? { target } : {}),
            },
          }
        : {}),
      ...(this.db.size > 0 ? { db: { nodes } } : {}),
      ...(this.redis
        ? {
            redis: {
              port: this.redis.host.port,
              ...(this.redis.check ? { clientCheck: this.redis.check } : {}),
            },
          }
        : {}),
    };
    const text = JSON.stringify(e);
    if (text === this.lastWritten) return;
    this.lastWritten = text;
    writeFleetEndpoints(this.o.dir, { ...e, updatedAt: new Date().toISOString() });
  }
}
