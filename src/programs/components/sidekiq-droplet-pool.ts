import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { SidekiqSpec } from "../config/sidekiq";
import { siteTags, type SiteContext } from "../site-context";

export interface SidekiqDropletPoolArgs {
  ctx: SiteContext;
  spec: SidekiqSpec & { size: string };
  region: string;
  image: string;
  vpcUuid: pulumi.Input<string>;
  sshKeys?: string[];
  /** Identical for every sidekiq droplet: the queues a process serves come from its tags. */
  userData: pulumi.Input<string>;
  /**
   * Keep a changed `sshKeys` list from replacing running droplets (DigitalOcean installs keys only
   * at creation); new droplets get the new list.
   * @defaultValue false
   */
  ignoreSshKeyChanges?: boolean;
}

/** Tags a sidekiq droplet reads at boot to build `sidekiq -c <threads> -q <queue> ...`. */
export function sidekiqTags(pool: string, threads: number, queues: string[]): string[] {
  return [`sidekiq-pool:${pool}`, `sidekiq-threads:${threads}`, ...queues.map((q) => `sidekiq-q:${q}`)];
}

/**
 * Sidekiq on droplets, one process group per droplet: exactly one scheduler droplet (Mastodon's
 * `scheduler` queue must never run twice) and, per pool, `count` droplets named
 * `<site>-sidekiq-<pool>-<i>`. Scaling a pool adds or removes the highest-numbered droplets and
 * touches nothing else; `gracefulShutdown` lets in-flight jobs finish before a droplet is deleted.
 */
export class SidekiqDropletPool extends pulumi.ComponentResource {
  readonly dropletNames: string[] = [];

  constructor(name: string, args: SidekiqDropletPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:mastodon:SidekiqDropletPool", name, {}, opts);
    const { ctx, spec } = args;
    const make = (dropletName: string, size: string, tags: string[]) => {
      new digitalocean.Droplet(
        dropletName,
        {
          name: dropletName,
          region: args.region,
          size,
          image: args.image,
          vpcUuid: args.vpcUuid,
          sshKeys: args.sshKeys,
          userData: args.userData,
          monitoring: true,
          ipv6: true,
          gracefulShutdown: true,
          tags: siteTags(ctx, "sidekiq", ...tags),
        },
        { parent: this, ...(args.ignoreSshKeyChanges ? { ignoreChanges: ["sshKeys"] } : {}) },
      );
      this.dropletNames.push(dropletName);
    };
    make(
      `${name}-scheduler`,
      spec.size,
      sidekiqTags("scheduler", spec.scheduler.threads, spec.scheduler.queues),
    );
    for (const [pool, p] of Object.entries(spec.pools)) {
      for (let i = 1; i <= p.count; i++) {
        make(`${name}-${pool}-${i}`, p.size ?? spec.size, sidekiqTags(pool, p.threads, p.queues));
      }
    }
    this.registerOutputs({ dropletNames: this.dropletNames });
  }
}
