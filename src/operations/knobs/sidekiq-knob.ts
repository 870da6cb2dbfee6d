import type { SiteConfig } from "../../programs/site-config";
import type { SidekiqKnob } from "../../programs/site-definition";
import { definitionFor } from "../../programs/sites";

export type { SidekiqKnob } from "../../programs/site-definition";

/** Where `config`'s site keeps its sidekiq layout, or why it has none. */
export function sidekiqKnob(config: SiteConfig): SidekiqKnob {
  return definitionFor(config).knobs.sidekiq(config.spec);
}
