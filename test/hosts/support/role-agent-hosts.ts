import * as fs from "node:fs";
import * as path from "node:path";
import { RehearsedDbHost, type DbHostFiles, type DeployRun } from "../../../src/sandbox/hosts/db-host";
import { NameForwarder } from "../../../src/sandbox/hosts/name-forwarder";
import { pgScratch } from "../../support/postgres-pair";

export type { DbHostFiles, DeployRun };

export interface SimHost {
  name: string;
  /** The data directory (PGDATA_HOST): /mnt/data/postgres of this host. */
  data: string;
  /** This host's folder: data, its kept-aside copies, config, socket. */
  dir: string;
  setTags(tags: string[]): void;
  /** The deploy script's role part, as stackyard-deploy.timer runs it: the hook, .env, then compose. */
  deploy(): Promise<DeployRun>;
  running(): boolean;
  /** psql as the image's superuser (POSTGRES_USER) on the app database, over the host's socket. */
  sql(q: string): string;
}

export interface DbSim {
  host(name: string, tags: string[]): Promise<SimHost>;
  /** Points the db-primary name at a host, as the operation moves the DNS record. */
  pointPrimaryAt(h: SimHost): void;
  remove(): Promise<void>;
}

/**
 * Simulated theATL database droplets, driven by hand: the sandbox's rehearsed database hosts
 * (src/sandbox/hosts/db-host.ts) with tags from a file per host (file:// metadata) and the
 * db-primary name pointed by the test, instead of the fleet's metadata service and DNS records.
 */
export async function startDbSim(f: DbHostFiles): Promise<DbSim> {
  const { tmp } = pgScratch("theatl-role-agent");
  const hosts = new Map<SimHost, RehearsedDbHost>();
  let primary: RehearsedDbHost | undefined;
  const forwarder = await NameForwarder.start(() => primary?.port);
  return {
    async host(name, tags) {
      const metadata = path.join(tmp.dir, `${name}-metadata`);
      fs.mkdirSync(metadata);
      const setTags = (t: string[]) => fs.writeFileSync(path.join(metadata, "tags"), t.join("\n") + "\n");
      setTags(tags);
      const h = await RehearsedDbHost.create(
        {
          name,
          dir: path.join(tmp.dir, name),
          metadataUrl: `file://${metadata}`,
          primaryPort: forwarder.port,
        },
        f,
      );
      const sim: SimHost = {
        name,
        data: h.data,
        dir: h.opts.dir,
        setTags,
        deploy: () => h.deploy(),
        running: () => h.running(),
        sql: (q) => h.sql(q),
      };
      hosts.set(sim, h);
      return sim;
    },
    pointPrimaryAt: (s) => (primary = hosts.get(s)),
    async remove() {
      for (const h of hosts.values()) h.stop("immediate");
      await forwarder.close();
      tmp.remove();
    },
  };
}
