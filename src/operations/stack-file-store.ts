import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { StackConfigInvalidError } from "../errors";
import {
  CONFIG_NAMESPACE,
  parseSiteConfig,
  readStackyardConfig,
  SiteConfigError,
  type SiteConfig,
} from "../programs/site-config";

/**
 * The service's view of a workspace folder (Pulumi.yaml + stacks/): read a site's typed config,
 * write a new spec and revision back without disturbing anything else in the file (secure values,
 * encryptionsalt, other namespaces, comments).
 */
export class StackFileStore {
  constructor(readonly workspaceDir: string) {}

  pathOf(site: string): string {
    return path.join(this.workspaceDir, "stacks", `Pulumi.${site}.yaml`);
  }

  exists(site: string): boolean {
    return fs.existsSync(this.pathOf(site));
  }

  readText(site: string): string {
    return fs.readFileSync(this.pathOf(site), "utf8");
  }

  load(site: string): SiteConfig {
    try {
      const raw = readStackyardConfig(this.pathOf(site));
      // The CLI rewrites config scalars as strings when it touches the file (e.g. adding encryptionsalt).
      if (typeof raw.configRevision === "string" && /^\d+$/.test(raw.configRevision))
        raw.configRevision = Number(raw.configRevision);
      const config = parseSiteConfig(raw);
      // A file copied from another site's would otherwise run that site's program under this stack's name.
      if (config.site !== site)
        throw new SiteConfigError(
          `${CONFIG_NAMESPACE}:site: the stack file of "${site}" declares site "${config.site}"; a stack's stackyard:site must equal its name`,
        );
      return config;
    } catch (err) {
      if (err instanceof SiteConfigError)
        throw new StackConfigInvalidError(
          site,
          err.problems.map((p) => this.relative(site, p)),
        );
      throw err;
    }
  }

  /** A problem as a caller may see it: the server's absolute paths become `stacks/Pulumi.<site>.yaml` (or `.`). */
  private relative(site: string, problem: string): string {
    return problem
      .split(this.pathOf(site))
      .join(`stacks/Pulumi.${site}.yaml`)
      .split(path.resolve(this.workspaceDir))
      .join(".");
  }

  /** Writes `stackyard:spec` and `stackyard:configRevision`; returns the previous text for a restore. */
  writeSpec(site: string, spec: SiteConfig["spec"], revision: number): string {
    const file = this.pathOf(site);
    const before = fs.readFileSync(file, "utf8");
    const doc = parseDocument(before);
    doc.setIn(["config", "stackyard:spec"], doc.createNode(spec));
    doc.setIn(["config", "stackyard:configRevision"], revision);
    this.writeText(site, doc.toString({ lineWidth: 0 }));
    return before;
  }

  /** Writes `text` (an earlier version of the file) under a new `stackyard:configRevision`. */
  writeTextAtRevision(site: string, text: string, revision: number): void {
    const doc = parseDocument(text);
    doc.setIn(["config", "stackyard:configRevision"], revision);
    this.writeText(site, doc.toString({ lineWidth: 0 }));
  }

  /** Atomic replace, so a crash never leaves half a stack file for the next run (or the laptop) to read. */
  writeText(site: string, text: string): void {
    const file = this.pathOf(site);
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  }
}
