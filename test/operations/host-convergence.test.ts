import * as assert from "node:assert/strict";
import * as path from "node:path";
import { expectedHosts, observeHosts } from "../../src/operations/host-convergence";
import type { LiveDbNode } from "../../src/operations/live-db-node";
import { projectRoot } from "../../src/infra/paths";
import { loadStackFile } from "../../src/programs/site-config";

const node = (name: string, role: LiveDbNode["role"], lag = 0, healthy = true): LiveDbNode => ({
  name,
  role,
  replicationLagSeconds: lag,
  healthy,
});
const load = (site: string) => loadStackFile(path.join(projectRoot, "stacks", `Pulumi.${site}.yaml`));

describe("host convergence: what each host must show after a topology change", () => {
  const expect = { primary: "pg-b", standbys: ["pg-c"], fenced: ["pg-a"], maxLagSeconds: 30 };
  const oks = (nodes: LiveDbNode[]) => observeHosts(expect, nodes).map((o) => [o.node, o.ok]);

  it("holds when the primary writes, the standby streams within the lag limit and the fenced node is gone", () => {
    assert.deepEqual(oks([node("pg-b", "primary"), node("pg-c", "standby", 3)]), [
      ["pg-b", true],
      ["pg-c", true],
      ["pg-a", true],
    ]);
  });

  it("does not hold while the fenced old primary still accepts writes, or a standby lags or is unhealthy", () => {
    assert.deepEqual(oks([node("pg-b", "primary"), node("pg-c", "standby"), node("pg-a", "primary")]), [
      ["pg-b", true],
      ["pg-c", true],
      ["pg-a", false],
    ]);
    assert.deepEqual(oks([node("pg-b", "primary"), node("pg-c", "standby", 31)])[1], ["pg-c", false]);
    assert.deepEqual(oks([node("pg-b", "primary"), node("pg-c", "standby", 0, false)])[1], ["pg-c", false]);
    assert.deepEqual(oks([node("pg-b", "standby")])[0], ["pg-b", false]);
  });

  it("is asked of self-managed databases only: theATL and Insync from their knobs, not datafruits' managed cluster", () => {
    assert.deepEqual(expectedHosts(load("theatl"), 30), {
      primary: "pg-a",
      standbys: ["pg-b"],
      fenced: [],
      maxLagSeconds: 30,
    });
    assert.equal(expectedHosts(load("insync"), 30)?.primary, "db");
    assert.equal(expectedHosts(load("datafruits"), 30), undefined);
    assert.equal(expectedHosts(load("vulpine"), 30), undefined);
  });
});
