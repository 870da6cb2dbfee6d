import { MASTODON_CONNECTIONS } from "../config/mastodon";
import type { SiteDefinition } from "../site-definition";
import { chitterProgram } from "./program";
import { chitterPolicyDefaults } from "./policy-defaults";
import { chitterSpecSchema, type ChitterSpec } from "./spec";

/** chitter.xyz (seed 001): Hetzner Cloud servers on a private network, one PostgreSQL on tempo. */
export const chitterSite: SiteDefinition<"chitter", ChitterSpec> = {
  id: "chitter",
  specSchema: chitterSpecSchema,
  program: chitterProgram,
  clouds: { hcloud: {}, aws: { region: (s) => s.aws.region } },
  knobs: {
    sidekiq: (spec) => ({ ok: true, path: "sidekiq", spec: spec.sidekiq, singletonQueue: "scheduler" }),
    db: () => ({
      ok: false,
      reason: "chitter runs one PostgreSQL on tempo; its config declares no standby or replica hosts",
    }),
  },
  appProcesses: (spec) => ({ web: spec.compose.scale.web, streaming: spec.compose.scale.streaming }),
  monthlyCost(s, bill) {
    for (const [name, srv] of Object.entries(s.servers)) {
      bill.sized("hetzner-server", name, srv.serverType);
      bill.unit("hetzner-primary-ipv4", `${name} primary IPv4`);
      for (const [vol, gb] of Object.entries(srv.volumes)) {
        bill.unit("hetzner-volume-gb", `${name} volume ${vol} ${gb} GB`, gb);
      }
    }
    bill.externals(s.externals);
  },
  guardDefaults: {
    sidekiq: {
      min: 1,
      max: 8,
      why: "compose replicas on the app server, bounded by tempo's max_connections",
    },
    replicas: null,
    connections: {
      ...MASTODON_CONNECTIONS,
      maxConnections: 300,
      source:
        "not in the seed; tempo (16 GiB) runs PostgreSQL for web, streaming and sidekiq on parasect (confirm with the operators)",
    },
    // Research suggested €80 before the 3 TB media volume was modelled (≈ €172/mo by itself).
    cost: {
      currency: "EUR",
      monthlyCeiling: 300,
      approvalDelta: 50,
      why: "tempo (€36.30) + cloud servers + the 3 TB media volume, with room for scaling",
    },
  },
  policyDefaults: chitterPolicyDefaults,
  liveDb: "postgresql",
  adoptedResources: () => [],
};
