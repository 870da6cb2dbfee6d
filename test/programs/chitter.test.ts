import assert from "node:assert/strict";
import { parse } from "yaml";
import { byType, cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor } from "./support/fixtures";

const SERVER = "hcloud:index/server:Server";
const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

describe("chitter program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("chitter"));
  });

  it("registers tempo and parasect on the private network with storage, a compose file each, their read-only pull key and the status bucket: 17 resources", () => {
    assert.deepEqual(countByType(base), {
      "hcloud:index/network:Network": 1,
      "hcloud:index/networkSubnet:NetworkSubnet": 1,
      "hcloud:index/firewall:Firewall": 1,
      [SERVER]: 2,
      "hcloud:index/volume:Volume": 1,
      "aws:s3/bucket:Bucket": 2,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 2,
      [OBJECT]: 2,
      "aws:iam/user:User": 1,
      "aws:iam/userPolicy:UserPolicy": 1,
      "aws:iam/accessKey:AccessKey": 1,
      "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": 1,
      "aws:s3/bucketPolicy:BucketPolicy": 1,
    });
    assert.equal(cloudResources(base).length, 17);
  });

  it("puts both servers in FSN1 at the seed's private addresses on 10.235.0.0/16", () => {
    assert.equal(get(base, "hcloud:index/network:Network", "chitter").inputs.ipRange, "10.235.0.0/16");
    assert.equal(get(base, SERVER, "tempo").inputs.networks[0].ip, "10.235.0.4");
    assert.equal(get(base, SERVER, "parasect").inputs.networks[0].ip, "10.235.0.3");
    for (const s of byType(base, SERVER)) {
      assert.equal(s.inputs.location, "fsn1");
      assert.equal(s.inputs.backups, true);
      assert.equal(s.inputs.labels.site, "chitter");
    }
    assert.equal(get(base, "hcloud:index/volume:Volume", "tempo-media").inputs.size, 3000);
  });

  it("opens no public port for PostgreSQL or Redis, which bind to the private address only", () => {
    const rules = get(base, "hcloud:index/firewall:Firewall", "chitter-public").inputs.rules;
    assert.deepEqual(
      rules.map((r: any) => r.port ?? r.protocol),
      ["80", "443", "22", "icmp"],
    );
    assert.deepEqual(rules[2].sourceIps, ["198.51.100.0/24"]);
    const tempo = get(base, SERVER, "tempo").inputs.userData;
    assert.match(tempo, /listen_addresses = 'localhost,10\.235\.0\.4'/);
    assert.match(tempo, /host all all 10\.235\.0\.0\/16 scram-sha-256/);
    assert.match(tempo, /bind 127\.0\.0\.1 10\.235\.0\.4/);
    const compose = parse(get(base, OBJECT, "parasect-compose").inputs.content);
    assert.equal(compose.services.web.environment.DB_HOST, "10.235.0.4");
  });

  it("labels every server, volume and bucket, and protects the stateful ones", () => {
    for (const r of cloudResources(base).filter(
      (x) => x.type.startsWith("hcloud:") && x.type !== "hcloud:index/networkSubnet:NetworkSubnet",
    )) {
      assert.equal(r.inputs.labels.site, "chitter", r.name);
      assert.equal(r.inputs.labels.env, "prod", r.name);
    }
    const names = cloudResources(base)
      .filter((r) => r.opts.protect && r.opts.retainOnDelete)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, ["chitter-deploy", "chitter-outages", "parasect", "tempo", "tempo-media"]);
  });

  it("moving the app to tempo changes only the two compose files, never a server", async () => {
    const after = await runSite(configFor("chitter", { appHost: "tempo" }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: { [`${OBJECT}::parasect-compose`]: ["content"], [`${OBJECT}::tempo-compose`]: ["content"] },
    });
    const services = (name: string) =>
      Object.keys(parse(get(after, OBJECT, name).inputs.content).services).sort();
    assert.deepEqual(services("parasect-compose"), ["minio"]);
    assert.ok(services("tempo-compose").includes("web"));
    assert.equal(after.outputs.endpoints.appHost.name, "tempo");
  });

  it("scaling sidekiq changes only the app host's compose file", async () => {
    const after = await runSite(configFor("chitter", { "sidekiq.pools.main.count": 4 }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: { [`${OBJECT}::parasect-compose`]: ["content"] },
    });
    const c = parse(get(after, OBJECT, "parasect-compose").inputs.content);
    assert.deepEqual(
      [c.services["sidekiq-main"].deploy.replicas, c.services["sidekiq-scheduler"].deploy.replicas],
      [4, 1],
    );
  });

  it("exports media origins, the historical media hostnames and the external services", () => {
    assert.deepEqual(
      base.outputs.historicalMediaHostnames.map((h: any) => h.url),
      [
        "https://media.chitter.xyz/",
        "https://media-b.chitter.xyz/",
        "https://chitter-media.codl.fr/",
        "https://chitter.xyz/system/",
      ],
    );
    assert.equal(base.outputs.mediaOrigins.length, 3);
    const vendors = base.outputs.externals.map((e: any) => e.vendor);
    for (const v of ["bunnycdn", "backblaze-b2", "netlify", "updown.io", "hetzner-robot"])
      assert.ok(vendors.includes(v), v);
    assert.equal(base.outputs.sidekiqCount, 2);
  });
});
