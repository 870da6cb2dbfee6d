import * as assert from "node:assert/strict";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { loadStackFile } from "../../src/programs/site-config";
import { adoptedResources } from "../../src/sandbox/adopted-resources";
import { Sandbox, createSandbox } from "./sandbox-harness";
import { copySiteProject, projectName, siteProgram } from "./site-harness";

// smithwicks, its /64 and the media bucket + CloudFront exist before the program's first run. With
// their ids in the stack file, the real engine in the sandbox must adopt each of them (import), never
// create a second one or plan a replace, even where the live host differs from what the program
// would build today (an older image, the operators' own first-boot user data).

const INSTANCE = "linode:index/instance:Instance";
const ADOPTED = [
  INSTANCE,
  "linode:index/ipv6Range:Ipv6Range",
  "aws:s3/bucket:Bucket",
  "aws:cloudfront/originAccessControl:OriginAccessControl",
  "aws:cloudfront/distribution:Distribution",
];

describe("vulpine adopts its live host and media on a first run", function () {
  this.timeout(300_000);
  let sbx: Sandbox;
  before(async () => {
    sbx = await createSandbox("vulpine-adopt");
  });
  after(() => sbx?.cleanup());

  it("imports smithwicks, its IPv6 range, the media bucket, OAC and distribution without a create or replace", async () => {
    const run = copySiteProject(sbx, "vulpine");
    run.editSpec((s) => {
      s.instance.importId = "41230001";
      s.media.adopt = {
        bucketId: "vulpine-club-media",
        originAccessControlId: "E1VULPINEOAC",
        distributionId: "E2VULPINEDIST",
      };
    });
    // The live account, as the operators built it before the program.
    for (const r of adoptedResources(loadStackFile(run.stackFile))) {
      const live =
        r.type === INSTANCE
          ? {
              ...r.inputs,
              image: "linode/debian11",
              metadatas: [
                { userData: Buffer.from("#cloud-config\n# the operators' own\n").toString("base64") },
              ],
            }
          : r.inputs;
      sbx.cloud.seedExisting(r.type, r.id, live);
    }
    // The distribution and its OAC carry inputs only a run states (the bucket's domain, the OAC's id):
    // seeded with what an operator would have named them.
    sbx.cloud.seedExisting(ADOPTED[3]!, "E1VULPINEOAC", { name: "vulpine-media-oac" });
    sbx.cloud.seedExisting(ADOPTED[4]!, "E2VULPINEDIST", { comment: "vulpine media" });

    const stack = await sbx.open("vulpine", siteProgram(), {
      projectName: projectName(),
      workDir: run.workDir,
    });
    const ops = new Map<string, string[]>();
    const onEvent = (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      if (m && ADOPTED.includes(m.type)) ops.set(m.type, [...(ops.get(m.type) ?? []), m.op]);
    };
    await stack.preview({ onEvent });
    // Each is imported first; the distribution then updates in place to attach the new web ACL
    // (its ARN is unknown until the ACL exists). Nothing is created anew or replaced.
    for (const type of ADOPTED) {
      const seen = ops.get(type) ?? [];
      assert.equal(seen[0], "import", `${type} plans ${seen}`);
      assert.deepEqual(
        seen.filter((op) => !["import", "update"].includes(op)),
        [],
        `${type} plans ${seen}`,
      );
    }
    assert.deepEqual(ops.get(ADOPTED[0]!), ["import"], "smithwicks is adopted as it is");

    const up = await stack.up();
    assert.equal(up.summary.result, "succeeded");
    const counts = sbx.cloud.countByType();
    for (const type of ADOPTED) assert.equal(counts[type], 1, `one ${type} in the account`);
    assert.equal(sbx.cloud.get(INSTANCE, "41230001")?.inputs.image, "linode/debian11", "the live host kept");
  });
});
