import type { SiteConfig } from "../../programs/site-config";
import type { SidekiqSpec } from "../../programs/config/sidekiq";

/** Where a site keeps its sidekiq layout, or why it has none. */
export type SidekiqKnob = { ok: true; path: string; spec: SidekiqSpec } | { ok: false; reason: string };

export function sidekiqKnob(config: SiteConfig): SidekiqKnob {
  switch (config.site) {
    case "vulpine":
    case "chitter":
    case "theatl":
    case "datafruits":
      return { ok: true, path: "sidekiq", spec: config.spec.sidekiq as SidekiqSpec };
    case "insync":
      return {
        ok: false,
        reason:
          "Insync runs no sidekiq; its beanstalkd mailers are processes on one droplet configured through ct1's conf server, not infrastructure",
      };
  }
}
