import * as assert from "node:assert/strict";
import { DEFAULT_ALLOWED_SIZES } from "../../src/policy/policy-defaults";
import {
  RuleResource,
  checkDataPlanePrivate,
  checkOneSite,
  checkResourceCeiling,
  checkSiteTagged,
  checkSizeAllowed,
  checkStatefulProtected,
} from "../../src/policy/rules";

const resource = (
  type: string,
  props: Record<string, unknown>,
  protect = false,
  name = "r",
): RuleResource => ({
  type,
  name,
  props,
  protect,
});

const DO_FIREWALL = "digitalocean:index/firewall:Firewall";
const DROPLET = "digitalocean:index/droplet:Droplet";

describe("resource policy rules", () => {
  describe("stateful-resources-protected", () => {
    const cluster = (protect: boolean) =>
      resource("digitalocean:index/databaseCluster:DatabaseCluster", { engine: "pg" }, protect, "pg");

    it("passes a protected database cluster", () => {
      assert.deepEqual(checkStatefulProtected(cluster(true), []), []);
    });
    it("refuses an unprotected database cluster, naming the value and the limit", () => {
      const [v] = checkStatefulProtected(cluster(false), []);
      assert.equal(v.rule, "stateful-resources-protected");
      assert.match(v.message, /"pg" holds data but protect=false \(limit: protect=true/);
    });
    it("lets an operation that declares the resource unprotect it", () => {
      assert.deepEqual(checkStatefulProtected(cluster(false), ["pg"]), []);
    });
    it("treats a droplet tagged as a PostgreSQL host as stateful", () => {
      const pg = resource(DROPLET, { tags: ["site:theatl", "role:pg-standby"] }, false, "pg-b");
      assert.equal(checkStatefulProtected(pg, []).length, 1);
      const web = resource(DROPLET, { tags: ["site:theatl", "role:web"] }, false, "web-0");
      assert.deepEqual(checkStatefulProtected(web, []), []);
    });
    it("holds a Kubernetes cluster to protection too (its volumes go with it)", () => {
      const doks = (protect: boolean) =>
        resource("digitalocean:index/kubernetesCluster:KubernetesCluster", { name: "doks" }, protect, "doks");
      assert.equal(checkStatefulProtected(doks(false), []).length, 1);
      assert.deepEqual(checkStatefulProtected(doks(true), []), []);
    });
    it("does not take a firewall that targets database hosts for a database", () => {
      const fw = resource(DO_FIREWALL, { tags: ["role:pg-primary"] }, false, "pg-primary");
      assert.deepEqual(checkStatefulProtected(fw, []), []);
    });
  });

  describe("data-plane-private-only", () => {
    it("passes PostgreSQL admitted from app tags only", () => {
      const fw = resource(DO_FIREWALL, {
        inboundRules: [{ protocol: "tcp", portRange: "5432", sourceTags: ["role:web", "role:sidekiq"] }],
      });
      assert.deepEqual(checkDataPlanePrivate(fw), []);
    });
    it("refuses PostgreSQL open to 0.0.0.0/0 on a DigitalOcean firewall", () => {
      const fw = resource(DO_FIREWALL, {
        inboundRules: [{ protocol: "tcp", portRange: "5432", sourceAddresses: ["0.0.0.0/0", "::/0"] }],
      });
      const [v] = checkDataPlanePrivate(fw);
      assert.equal(v.rule, "data-plane-private-only");
      assert.match(v.message, /PostgreSQL port 5432 to 0\.0\.0\.0\/0, ::\/0 \(limit: private network only\)/);
    });
    it("refuses an all-ports rule open to the internet, because it covers Redis too", () => {
      const fw = resource(DO_FIREWALL, {
        inboundRules: [{ protocol: "tcp", portRange: "all", sourceAddresses: ["::/0"] }],
      });
      assert.ok(checkDataPlanePrivate(fw).some((v) => /Redis port 6379/.test(v.message)));
    });
    it("passes HTTPS open to the internet", () => {
      const fw = resource(DO_FIREWALL, {
        inboundRules: [{ protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0"] }],
      });
      assert.deepEqual(checkDataPlanePrivate(fw), []);
    });
    it("passes ICMP open to the internet: it carries no ports", () => {
      const hfw = resource("hcloud:index/firewall:Firewall", {
        rules: [{ direction: "in", protocol: "icmp", sourceIps: ["0.0.0.0/0"] }],
      });
      assert.deepEqual(checkDataPlanePrivate(hfw), []);
    });
    it("refuses a managed database firewall admitting any address", () => {
      const dbfw = resource("digitalocean:index/databaseFirewall:DatabaseFirewall", {
        rules: [{ type: "ip_addr", value: "0.0.0.0/0" }],
      });
      assert.equal(checkDataPlanePrivate(dbfw).length, 1);
    });
    it("refuses MySQL open on Hetzner and Redis open on Linode", () => {
      const hfw = resource("hcloud:index/firewall:Firewall", {
        rules: [{ direction: "in", protocol: "tcp", port: "3306", sourceIps: ["0.0.0.0/0"] }],
      });
      const lfw = resource("linode:index/firewall:Firewall", {
        inbounds: [{ action: "ACCEPT", protocol: "TCP", ports: "6379", ipv4s: ["0.0.0.0/0"] }],
      });
      assert.match(checkDataPlanePrivate(hfw)[0].message, /MySQL port 3306/);
      assert.match(checkDataPlanePrivate(lfw)[0].message, /Redis port 6379/);
    });
  });

  describe("site-tags-required", () => {
    it("passes a droplet tagged for its site and a Hetzner server labelled for it", () => {
      assert.deepEqual(checkSiteTagged(resource(DROPLET, { tags: ["site:theatl"] })), []);
      assert.deepEqual(
        checkSiteTagged(resource("hcloud:index/server:Server", { labels: { site: "chitter" } })),
        [],
      );
    });
    it("refuses an untagged droplet and ignores types that take no tags", () => {
      assert.equal(checkSiteTagged(resource(DROPLET, { tags: ["role:web"] }))[0].rule, "site-tags-required");
      assert.deepEqual(checkSiteTagged(resource("digitalocean:index/spacesBucket:SpacesBucket", {})), []);
    });
  });

  describe("sizes-from-allow-list", () => {
    it("passes a catalogue size and refuses a typo, listing the allowed sizes", () => {
      assert.deepEqual(
        checkSizeAllowed(resource(DROPLET, { size: "s-2vcpu-4gb" }), DEFAULT_ALLOWED_SIZES),
        [],
      );
      const [v] = checkSizeAllowed(resource(DROPLET, { size: "s-64vcpu-256gb" }), DEFAULT_ALLOWED_SIZES);
      assert.match(v.message, /size s-64vcpu-256gb \(limit: one of s-1vcpu-512mb-10gb, /);
    });
  });

  describe("stack rules", () => {
    const tagged = (site: string, n: number) =>
      Array.from({ length: n }, (_, i) => resource(DROPLET, { tags: [`site:${site}`] }, false, `d${i}`));

    it("refuses a stack whose resources are tagged for two sites", () => {
      assert.deepEqual(checkOneSite(tagged("theatl", 2)), []);
      assert.match(
        checkOneSite([...tagged("theatl", 1), ...tagged("insync", 1)])[0].message,
        /2 sites: insync, theatl/,
      );
      // The same message whatever order the engine hands the resources over in.
      assert.equal(
        checkOneSite([...tagged("insync", 1), ...tagged("theatl", 1)])[0].message,
        checkOneSite([...tagged("theatl", 1), ...tagged("insync", 1)])[0].message,
      );
    });
    it("refuses a stack over its site's ceiling and passes one at it", () => {
      assert.deepEqual(checkResourceCeiling(tagged("vulpine", 3), { vulpine: 3 }, 100), []);
      assert.match(
        checkResourceCeiling(tagged("vulpine", 4), { vulpine: 3 }, 100)[0].message,
        /has 4 resources \(limit: 3\)/,
      );
    });
  });
});
