import * as assert from "node:assert/strict";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import { parseGuardOverrides } from "../../src/operations/guards/guard-settings";
import { siteMonthlyCost } from "../../src/operations/pricing/site-cost";
import { policyOverridesSchema } from "../../src/policy/policy-settings";
import { loadStackFile } from "../../src/programs/site-config";
import { SITE_IDS, SITES } from "../../src/programs/sites";

const committed = (site: string) => loadStackFile(path.join(projectRoot, "stacks", `Pulumi.${site}.yaml`));

describe("the site registry", () => {
  it("files every site under its own id, and the ids are the registry's keys", () => {
    assert.deepEqual(SITE_IDS, Object.keys(SITES));
    for (const id of SITE_IDS) assert.equal(SITES[id].id, id);
  });

  it("has a committed stack file for every site, declaring that site", () => {
    for (const id of SITE_IDS) assert.equal(committed(id).site, id);
  });

  it("prices every committed site above zero with every size in the price table", () => {
    for (const id of SITE_IDS) {
      const cost = siteMonthlyCost(committed(id), SITES[id].guardDefaults.cost.currency);
      assert.ok(cost.total > 0, `${id} costs ${cost.total}`);
      assert.deepEqual(cost.unpriced, [], `${id} has unpriced sizes`);
    }
  });

  it("gives every site guard and policy defaults that the override files' schemas accept", () => {
    for (const id of SITE_IDS) {
      assert.doesNotThrow(() => parseGuardOverrides({ [id]: SITES[id].guardDefaults }), id);
      assert.equal(policyOverridesSchema.safeParse({ [id]: SITES[id].policyDefaults }).success, true, id);
    }
  });
});
