import * as pulumi from "@pulumi/pulumi";
import type { Env, SiteId } from "./site-config";

/**
 * Every resource of a site hangs under one `stackyard:site:Site` component. That gives the
 * stack a readable tree, and lets callers (tests, the policy layer) pass resource options such
 * as transformations that reach every child.
 */
export class SiteRoot extends pulumi.ComponentResource {
  constructor(site: SiteId, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:site:Site", site, {}, opts);
  }

  /** Registers the site's outputs on the root; called last by each program. */
  finish<T extends Record<string, unknown>>(outputs: T): T {
    this.registerOutputs(outputs);
    return outputs;
  }
}

/** What every component needs to name and tag its resources. */
export interface SiteContext {
  site: SiteId;
  env: Env;
}

/** DigitalOcean / Linode tags: `site:<id>`, `env:<env>`, `role:<role>`, then extras. */
export function siteTags(ctx: SiteContext, role: string, ...extra: string[]): string[] {
  return [`site:${ctx.site}`, `env:${ctx.env}`, `role:${role}`, ...extra];
}

/** The same facts as a map, for AWS tags, hcloud labels and Kubernetes labels. */
export function siteLabels(ctx: SiteContext, role: string): Record<string, string> {
  return { site: ctx.site, env: ctx.env, role };
}

/**
 * Options for resources whose loss loses data (databases, DB hosts, volumes, buckets): the
 * engine refuses to delete them, and removing them from the program leaves the cloud object alone.
 */
export function stateful(
  parent: pulumi.Resource,
  extra: pulumi.CustomResourceOptions = {},
): pulumi.CustomResourceOptions {
  return { ...extra, parent, protect: true, retainOnDelete: true };
}

/** DigitalOcean / hcloud APIs take numeric ids where Pulumi gives strings. */
export function numericId(r: pulumi.CustomResource): pulumi.Output<number> {
  return r.id.apply((id) => Number(id));
}
