import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { StackConfigInvalidError } from "../errors";
import {
  CONFIG_NAMESPACE,
  parseSiteConfig,
  readStackFileText,
  SiteConfigError,
  stackyardConfigOf,
  type SiteConfig,
} from "../programs/site-config";

/**
 * The service's view of a workspace folder (Pulumi.yaml + stacks/): read a site's typed config,
 * write a new spec and revision back without disturbing anything else in the file (secure values,
 * encryptionsalt, other namespaces, comments).
 */
export class StackFileStore {
  /**
   * The last valid config parsed per site, with the exact text it came from. Parsing and validating
   * the YAML is most of what a request costs; reading the file is cheap, so every load still reads it
   * and a changed byte means a fresh parse.
   */
  private readonly parsed = new Map<string, { text: string; config: SiteConfig }>();

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

  /** The site's typed config, a copy the caller may change. */
  load(site: string): SiteConfig {
    try {
      const file = this.pathOf(site);
      const text = readStackFileText(file);
      const hit = this.parsed.get(site);
      if (hit?.text === text) return structuredClone(hit.config);
      const config = this.parse(site, file, text);
      this.parsed.set(site, { text, config: structuredClone(config) });
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

  private parse(site: string, file: string, text: string): SiteConfig {
    const raw = stackyardConfigOf(file, text);
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
