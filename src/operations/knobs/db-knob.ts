import type { SiteConfig } from "../../programs/site-config";
import type { DbKnob as SiteDbKnob, DbKnobResult as SiteDbKnobResult } from "../../programs/site-definition";
import { definitionFor } from "../../programs/sites";

/** A site's database topology as the `primary` and `replicas` knobs; its moves return a new spec. */
export type DbKnob = SiteDbKnob<SiteConfig["spec"]>;
export type DbKnobResult = SiteDbKnobResult<SiteConfig["spec"]>;

/** `config`'s database knobs, or why its site has none. */
export function dbKnob(config: SiteConfig): DbKnobResult {
  return definitionFor(config).knobs.db(config.spec);
}
