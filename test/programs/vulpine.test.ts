import assert from "node:assert/strict";
import { parse } from "yaml";
import { cloudResources, countByType, diffRuns, get, runSite, type Run } from "./support/harness";
import { configFor } from "./support/fixtures";

const OBJECT = "linode:index/objectStorageObject:ObjectStorageObject";
const compose = (run: Run): any => parse(get(run, OBJECT, "vulpine-compose").inputs.content);

describe("vulpine program", () => {
  let base: Run;
  before(async () => {
    base = await runSite(configFor("vulpine"));
  });

  it("registers the Linode host, its firewall and IPv6 range, the compose object, its read-only pull key and the S3 + CloudFront media behind a web ACL: 12 resources", () => {
    assert.deepEqual(countByType(base), {
      "linode:index/instance:Instance": 1,
      "linode:index/ipv6Range:Ipv6Range": 1,
      "linode:index/firewall:Firewall": 1,
      "linode:index/objectStorageBucket:ObjectStorageBucket": 1,
      [OBJECT]: 1,
      "linode:index/objectStorageKey:ObjectStorageKey": 1,
      "aws:s3/bucket:Bucket": 1,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
      "aws:cloudfront/originAccessControl:OriginAccessControl": 1,
      "aws:cloudfront/distribution:Distribution": 1,
      "aws:s3/bucketPolicy:BucketPolicy": 1,
      "aws:wafv2/webAcl:WebAcl": 1,
    });
    assert.equal(cloudResources(base).length, 12);
  });

  it("runs smithwicks as a Linode 8GB with backups, tagged for the site", () => {
    const i = get(base, "linode:index/instance:Instance", "smithwicks").inputs;
    assert.deepEqual([i.type, i.region, i.backupsEnabled], ["g6-standard-4", "us-east", true]);
    assert.deepEqual(i.tags, ["site:vulpine", "env:prod", "role:allinone"]);
    assert.equal(get(base, "linode:index/ipv6Range:Ipv6Range", "vulpine-ipv6").inputs.prefixLength, 64);
  });

  it("drops all inbound traffic but HTTPS, with SSH only from the admin network", () => {
    const fw = get(base, "linode:index/firewall:Firewall", "vulpine-edge").inputs;
    assert.equal(fw.inboundPolicy, "DROP");
    assert.deepEqual(
      fw.inbounds.map((r: any) => [r.ports, r.ipv4s]),
      [
        ["80,443", ["0.0.0.0/0"]],
        ["22", ["192.0.2.0/24"]],
      ],
    );
  });

  it("keeps each container on only the networks the seed lists", () => {
    const c = compose(base);
    const nets = (svc: string) => Object.keys(c.services[svc].networks).sort();
    assert.deepEqual(nets("db"), ["db_network"]);
    assert.deepEqual(nets("es"), ["es_network"]);
    assert.deepEqual(nets("redis"), ["redis_network"]);
    assert.deepEqual(nets("dbbackup"), ["db_network"]);
    assert.deepEqual(nets("ambassador"), ["db_network", "external_network"]);
    assert.deepEqual(nets("nginx"), ["external_network", "internal_network"]);
    // Seed: sidekiq needs external_network, db_network, es_network and redis_network.
    const sidekiqs = Object.keys(c.services).filter((n) => n.startsWith("sidekiq-"));
    assert.ok(sidekiqs.length >= 2);
    for (const svc of sidekiqs)
      assert.deepEqual(nets(svc), ["db_network", "es_network", "external_network", "redis_network"], svc);
    assert.deepEqual(nets("web"), [
      "db_network",
      "es_network",
      "external_network",
      "internal_network",
      "redis_network",
    ]);
    assert.deepEqual(nets("streaming"), [
      "db_network",
      "external_network",
      "internal_network",
      "redis_network",
    ]);
    assert.deepEqual(c.services.web.networks.internal_network.aliases, ["fe_web"]);
    assert.deepEqual(c.services.streaming.networks.internal_network.aliases, ["fe_streaming"]);
    for (const [name, n] of Object.entries<any>(c.networks))
      assert.equal(n.internal, name !== "external_network", name);
    assert.deepEqual(c.networks.external_network.ipam.config, [
      { subnet: "172.31.0.0/16" },
      { subnet: "2600:3c03:e000:027b::/64" },
    ]);
  });

  it("scales web x2, streaming x2 and sidekiq as four processes with one scheduler", () => {
    const c = compose(base);
    assert.deepEqual([c.services.web.deploy.replicas, c.services.streaming.deploy.replicas], [2, 2]);
    assert.equal(c.services["sidekiq-scheduler"].deploy.replicas, 1);
    assert.match(c.services["sidekiq-scheduler"].command, /-q scheduler$/);
    assert.equal(c.services["sidekiq-main"].deploy.replicas, 3);
    assert.doesNotMatch(c.services["sidekiq-main"].command, /scheduler/);
  });

  it("protects the host, its IPv6 range, the media bucket and the deploy bucket", () => {
    const names = cloudResources(base)
      .filter((r) => r.opts.protect && r.opts.retainOnDelete)
      .map((r) => r.name)
      .sort();
    assert.deepEqual(names, ["smithwicks", "vulpine-deploy", "vulpine-ipv6", "vulpine-media"]);
    assert.equal(get(base, "aws:s3/bucket:Bucket", "vulpine-media").inputs.tags["account-owner"], "personal");
  });

  it("blocks every form of public access to the media bucket, which only CloudFront reads", () => {
    const block = get(base, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "vulpine-media").inputs;
    assert.deepEqual(
      [block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets],
      [true, true, true, true],
    );
    // Mastodon would otherwise upload with a public-read ACL, which a blocked bucket refuses.
    for (const svc of ["web", "sidekiq-main", "sidekiq-scheduler"])
      assert.equal(compose(base).services[svc].environment.S3_PERMISSION, "private", svc);
  });

  it("puts the media distribution behind a CloudFront-scoped web ACL with a per-IP rate limit", () => {
    const acl = get(base, "aws:wafv2/webAcl:WebAcl", "vulpine-media").inputs;
    assert.deepEqual([acl.scope, acl.region], ["CLOUDFRONT", "us-east-1"]);
    assert.ok(acl.rules.some((r: any) => r.statement.rateBasedStatement?.aggregateKeyType === "IP"));
    const dist = get(base, "aws:cloudfront/distribution:Distribution", "vulpine-media").inputs;
    assert.match(dist.webAclId, /^arn:aws:wafv2:us-east-1:\d+:global\/webacl\/vulpine-media\//);
    assert.equal(dist.defaultCacheBehavior.viewerProtocolPolicy, "redirect-to-https");
  });

  it("gives the host a key that can only read the deploy bucket, exported only as a secret", () => {
    const key = get(base, "linode:index/objectStorageKey:ObjectStorageKey", "vulpine-compose-pull").inputs;
    assert.deepEqual(key.bucketAccesses, [
      { bucketName: "vulpine-deploy", region: "us-east", permissions: "read_only" },
    ]);
  });

  it("scaling sidekiq changes only the published compose file, never the host", async () => {
    const after = await runSite(configFor("vulpine", { "sidekiq.pools.main.count": 5 }));
    assert.deepEqual(diffRuns(base, after), {
      added: [],
      removed: [],
      changed: { [`${OBJECT}::vulpine-compose`]: ["content"] },
    });
    assert.equal(compose(after).services["sidekiq-main"].deploy.replicas, 5);
    assert.equal(compose(after).services["sidekiq-scheduler"].deploy.replicas, 1);
    assert.equal(after.outputs.sidekiqCount, 5);
  });

  it("exports knobs, service scales, endpoints and the rsync target", () => {
    assert.equal(base.outputs.sidekiqCount, 3);
    assert.equal(base.outputs.serviceScales["sidekiq-scheduler"], 1);
    assert.equal(base.outputs.endpoints.nginxIpv6, "2600:3c03:e000:27b::e621:10");
    assert.deepEqual(
      base.outputs.externals.map((e: any) => e.vendor),
      ["rsync"],
    );
  });
});
