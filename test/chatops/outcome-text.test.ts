import * as assert from "node:assert/strict";
import { resultText } from "../../src/chatops/outcome-watcher";
import { unconvergedSummary } from "../../src/operations/host-convergence";
import { failureFields, type OperationRecord } from "../../src/operations/operation-record";

describe("chat replies: an operation's outcome", () => {
  it("says when the update applied but the hosts did not converge, naming the node and what was seen", () => {
    const hosts = {
      converged: false,
      waitedMs: 300_000,
      rounds: 150,
      observations: [
        { node: "pg-b", expected: "primary" as const, observed: "standby, healthy, lag 0 s", ok: false },
        { node: "pg-a", expected: "fenced" as const, observed: "unobserved", ok: true },
      ],
    };
    const rec = {
      id: "op_1",
      site: "theatl",
      kind: "failover",
      status: "failed",
      plan: { summary: "fail theatl over from pg-a to pg-b; fence pg-a", changes: [], noop: false },
      revision: { from: 0, to: 1 },
      hosts,
      ...failureFields("HOST_NOT_CONVERGED", unconvergedSummary(hosts)),
    } as unknown as OperationRecord;
    assert.equal(
      resultText(rec),
      "op_1 failed: fail theatl over from pg-a to pg-b; fence pg-a — HOST_NOT_CONVERGED: the hosts did not reach the new topology within 300 s (150 observations): pg-b: expected primary, observed standby, healthy, lag 0 s",
    );
  });
});
