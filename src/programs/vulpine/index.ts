import { MASTODON_CONNECTIONS } from "../config/mastodon";
import type { AdoptedResource, SiteDefinition } from "../site-definition";
import { siteLabels, siteTags } from "../site-context";
import { ipv6RangeId, vulpineProgram } from "./program";
import { vulpinePolicyDefaults } from "./policy-defaults";
import { vulpineSpecSchema, type VulpineSpec } from "./spec";

/** vulpine.club (seed 000): one Linode running docker-compose, PostgreSQL in a container beside the app. */
export const vulpineSite: SiteDefinition<"vulpine", VulpineSpec> = {
  id: "vulpine",
  specSchema: vulpineSpecSchema,
  program: vulpineProgram,
  clouds: { linode: { objectStorage: true }, aws: { region: (s) => s.media.region } },
  knobs: {
    sidekiq: (spec) => ({ ok: true, path: "sidekiq", spec: spec.sidekiq, singletonQueue: "scheduler" }),
    db: () => ({
      ok: false,
      reason: "vulpine runs PostgreSQL in a container on its single Linode; there is no second database host",
    }),
  },
  appProcesses: (spec) => ({ web: spec.compose.scale.web, streaming: spec.compose.scale.streaming }),
  monthlyCost(s, bill) {
    bill.sized("linode-instance", s.instance.label, s.instance.type);
    if (s.instance.backups) bill.addOn("linode-backups", `${s.instance.label} backups`, s.instance.type);
    bill.externals(s.externals);
  },
  guardDefaults: {
    sidekiq: { min: 1, max: 6, why: "the Linode 8GB also hosts PostgreSQL, Elasticsearch and Redis" },
    replicas: null,
    connections: {
      ...MASTODON_CONNECTIONS,
      // The seed runs sidekiq ×4 at 25 threads beside web ×2 and streaming ×2: PostgreSQL's default 100 cannot carry that.
      maxConnections: 300,
      source:
        "not in the seed; raised from PostgreSQL's default 100 so the seed's own layout fits (confirm with the operators)",
    },
    cost: {
      currency: "USD",
      monthlyCeiling: 100,
      approvalDelta: 50,
      why: "research §3 starting ceiling for vulpine",
    },
  },
  policyDefaults: vulpinePolicyDefaults,
  liveDb: "postgresql",
  adoptedResources(spec) {
    // smithwicks, its /64 and the media bucket predate the program; Linode labels and bucket names
    // are unique, so a first run must adopt them. Inputs are the declared ones (what an import
    // matches), without the host's first-boot userData, which the Linode API cannot read back.
    const out: AdoptedResource[] = [];
    const ctx = { site: "vulpine" as const, env: spec.env };
    if (spec.instance.importId) {
      out.push(
        {
          type: "linode:index/instance:Instance",
          id: spec.instance.importId,
          inputs: {
            label: spec.instance.label,
            type: spec.instance.type,
            region: spec.region,
            image: spec.instance.image,
            backupsEnabled: spec.instance.backups,
            watchdogEnabled: true,
            tags: siteTags(ctx, "allinone"),
          },
        },
        {
          type: "linode:index/ipv6Range:Ipv6Range",
          id: ipv6RangeId(spec.ipv6.range),
          inputs: { prefixLength: 64, linodeId: Number(spec.instance.importId) },
        },
      );
    }
    const bucketId = spec.media.adopt?.bucketId;
    if (bucketId)
      out.push({
        type: "aws:s3/bucket:Bucket",
        id: bucketId,
        inputs: {
          bucket: bucketId,
          region: spec.media.region,
          tags: { ...siteLabels(ctx, "media"), "account-owner": spec.media.accountOwner },
        },
      });
    return out;
  },
};
