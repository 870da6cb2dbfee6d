import { z } from "zod";
import type { OperationDefinition } from "./types";

const params = z.strictObject({});
export type DetectDriftParams = z.infer<typeof params>;

/**
 * Look for changes made to the site's cloud outside the service (a console resize, a firewall rule
 * added by hand): a refresh preview, compared property by property with the engine's state. It
 * writes nothing (no stack file, no state, no cloud) unless the site's drift settings say
 * `remediate: refresh`; the report goes on the operation and becomes the site's latest.
 */
export const detectDrift: OperationDefinition<"detect-drift", DetectDriftParams> = {
  kind: "detect-drift",
  description: "Compare the cloud with the engine's state and report what changed out of band.",
  paramsSchema: params,
  defaultParams: {},
  chat: { args: [] },
  run: "drift",
  plan(config) {
    return {
      kind: "detect-drift",
      site: config.site,
      summary: `look for drift on ${config.site}`,
      changes: [],
      noop: true,
      nextSpec: config.spec,
      touches: [],
      liveChecks: [],
    };
  },
};
