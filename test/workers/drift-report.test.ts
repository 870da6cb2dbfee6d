import * as assert from "node:assert/strict";
import * as path from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { outsideBlastRadius } from "../../src/operations/blast-radius";
import { guardSettingsFor } from "../../src/operations/guards/guard-settings";
import { planAndGuard } from "../../src/operations/planner";
import { OPERATIONS } from "../../src/operations/registry";
import { StackFileStore } from "../../src/operations/stack-file-store";
import type { DriftReport } from "../../src/operations/drift-report";
import { blastRefusal, driftNote } from "../../src/workers/blast-radius-refusals";
import { DriftCollector } from "../../src/workers/drift-run";
import { projectRoot } from "./support/service-harness";

const DROPLET = "digitalocean:index/droplet:Droplet";
const FIREWALL = "digitalocean:index/firewall:Firewall";
const urn = (type: string, name: string) =>
  `urn:pulumi:theatl::stackyard::stackyard:theatl:Site$${type}::${name}`;

/** A refresh step as the engine reports it: the state before and what the provider read. */
function refreshStep(
  type: string,
  name: string,
  before: Record<string, unknown>,
  after: Record<string, unknown> | undefined,
): EngineEvent[] {
  const state = (props: Record<string, unknown>) => ({
    type,
    urn: urn(type, name),
    custom: true,
    delete: false,
    id: `${name}-id`,
    parent: "",
    protect: false,
    inputs: props,
    outputs: { ...props, __meta: "{}", id: `${name}-id` },
    provider: "",
  });
  const meta = {
    op: "refresh",
    urn: urn(type, name),
    type,
    old: state(before),
    ...(after ? { new: state(after) } : {}),
    provider: "",
  };
  return [
    { sequence: 1, timestamp: 0, resourcePreEvent: { metadata: meta } },
    { sequence: 2, timestamp: 0, resOutputsEvent: { metadata: meta } },
  ] as unknown as EngineEvent[];
}

describe("drift report (unit)", () => {
  it("names each changed property with the state's value and the cloud's, and nothing that only moved key order", () => {
    const c = new DriftCollector();
    const rules = [{ protocol: "tcp", portRange: "443", sourceAddresses: ["0.0.0.0/0"] }];
    for (const e of [
      ...refreshStep(
        DROPLET,
        "theatl-web",
        { size: "s-2vcpu-4gb", tags: ["a"] },
        { tags: ["a"], size: "s-8vcpu-16gb" },
      ),
      ...refreshStep(
        FIREWALL,
        "theatl-fw",
        { inboundRules: rules },
        { inboundRules: [...rules, { protocol: "tcp", portRange: "22" }] },
      ),
      ...refreshStep(
        DROPLET,
        "theatl-redis",
        { size: "s-1vcpu-2gb", tags: ["r"] },
        { tags: ["r"], size: "s-1vcpu-2gb" },
      ),
      ...refreshStep("pulumi:providers:digitalocean", "default", { version: "1" }, { version: "2" }),
    ])
      c.onEvent(e);
    const f = c.findings();
    assert.deepEqual(
      f.drifted.map((d) => [d.name, d.property, d.expected, d.found]),
      [
        ["theatl-web", "size", "s-2vcpu-4gb", "s-8vcpu-16gb"],
        ["theatl-fw", "inboundRules", rules, [...rules, { protocol: "tcp", portRange: "22" }]],
      ],
    );
    assert.deepEqual(f.deleted, []);
  });

  it("reports a resource the provider no longer finds as deleted, and never a secret-named value", () => {
    const c = new DriftCollector();
    for (const e of [
      ...refreshStep(DROPLET, "gone", { size: "s-1vcpu-2gb" }, undefined),
      ...refreshStep(
        "digitalocean:index/spacesKey:SpacesKey",
        "k",
        { secretKey: "old-secret" },
        { secretKey: "new-secret-value" },
      ),
    ])
      c.onEvent(e);
    const f = c.findings(["new-secret-value"]);
    assert.deepEqual(
      f.deleted.map((d) => d.name),
      ["gone"],
    );
    assert.equal(JSON.stringify(f).includes("secret-value"), false, JSON.stringify(f));
    assert.equal(JSON.stringify(f).includes("old-secret"), false, JSON.stringify(f));
  });

  it("names the drift in a blast-radius refusal on a drifted resource, and only there", () => {
    const web = urn(DROPLET, "theatl-web");
    const report: DriftReport = {
      site: "theatl",
      operationId: "op-1",
      detectedAt: "2026-12-02T04:00:00.000Z",
      resources: 1,
      drifted: [
        {
          urn: web,
          type: DROPLET,
          name: "theatl-web",
          property: "size",
          expected: "s-2vcpu-4gb",
          found: "s-8vcpu-16gb",
        },
      ],
      deleted: [],
      remediation: "none",
    };
    const on = blastRefusal("scale-sidekiq", { op: "update", type: DROPLET, urn: web }, [], report);
    assert.match(on.message, /droplet theatl-web size drifted s-2vcpu-4gb → s-8vcpu-16gb out of band/);
    const other = blastRefusal(
      "scale-sidekiq",
      { op: "update", type: DROPLET, urn: urn(DROPLET, "x") },
      [],
      report,
    );
    assert.doesNotMatch(other.message, /drifted/);
    assert.equal(driftNote([{ op: "update", type: DROPLET, urn: urn(DROPLET, "x") }], report), undefined);
    assert.match(driftNote([{ op: "update", type: DROPLET, urn: web }], report)!, /revert-drift/);
  });

  it("lets revert-drift touch exactly the named resources, updated in place, and needs approval", () => {
    const config = new StackFileStore(path.resolve(projectRoot)).load("theatl");
    const web = urn(DROPLET, "theatl-web");
    const { plan } = planAndGuard(
      config,
      "revert-drift",
      OPERATIONS["revert-drift"].paramsSchema.parse({ resources: [web] }),
      {
        settings: guardSettingsFor("theatl"),
        now: new Date(),
        runsLastHour: 0,
      },
    );
    assert.deepEqual(plan.nextSpec, config.spec);
    const steps = [
      { op: "update", type: DROPLET, urn: web },
      { op: "update", type: DROPLET, urn: urn(DROPLET, "other") },
      { op: "delete", type: DROPLET, urn: web },
    ];
    assert.deepEqual(outsideBlastRadius(steps, plan.touches), steps.slice(1));
    // A DNS record waiting on the droplet's (unknown in preview) address follows from it; a real change does not.
    const dns = "digitalocean:index/dnsRecord:DnsRecord";
    const follows = { op: "update", type: dns, urn: urn(dns, "web-int"), unknownOnly: true as const };
    const changes = { op: "update", type: dns, urn: urn(dns, "web-int") };
    assert.deepEqual(outsideBlastRadius([follows, changes], plan.touches), [changes]);
    assert.ok(guardSettingsFor("theatl").approvalKinds.includes("revert-drift"));
    assert.equal(
      OPERATIONS["revert-drift"].paramsSchema.safeParse({ resources: ["not a name"] }).success,
      false,
    );
  });
});
