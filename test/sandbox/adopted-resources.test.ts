import * as assert from "node:assert/strict";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import { loadStackFile } from "../../src/programs/site-config";
import { adoptedResources, seedAdoptedResources } from "../../src/sandbox/adopted-resources";
import { SandboxCloud } from "../../src/sandbox/sandbox-cloud";
import { tempDir } from "../support/temp-dir";

const committed = (site: string) => loadStackFile(path.join(projectRoot, "stacks", `Pulumi.${site}.yaml`));

describe("resources a site adopts, in a sandbox account", () => {
  it("lists Insync's pre-existing backup bucket and nothing for sites that adopt nothing", () => {
    assert.deepEqual(adoptedResources(committed("insync")), [
      {
        type: "aws:s3/bucket:Bucket",
        id: "insync_db_backups",
        inputs: { bucket: "insync_db_backups", region: "us-east-1" },
      },
    ]);
    for (const site of ["theatl", "vulpine", "chitter", "datafruits"])
      assert.deepEqual(adoptedResources(committed(site)), []);
  });

  it("seeds a fresh account once and leaves an existing bucket alone", () => {
    const tmp = tempDir("adopted");
    try {
      const cloud = new SandboxCloud(tmp.dir);
      assert.deepEqual(seedAdoptedResources(cloud, committed("insync")), ["insync_db_backups"]);
      assert.equal(cloud.get("aws:s3/bucket:Bucket", "insync_db_backups")?.id, "insync_db_backups");
      assert.deepEqual(seedAdoptedResources(cloud, committed("insync")), []);
    } finally {
      tmp.remove();
    }
  });
});
