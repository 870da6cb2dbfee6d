import * as assert from "node:assert/strict";
import { SandboxCloud, TYPES } from "../../src/sandbox/sandbox-cloud";
import { reveal, isSecret } from "../../src/sandbox/property-values";
import { seedFromState, type StateResource } from "../../src/sandbox/state-seed";
import { tempDir } from "../support/temp-dir";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const urn = (type: string, name: string) => `urn:pulumi:theatl::stackyard::${type}::${name}`;

function droplet(name: string, tags: string[], extra: Record<string, unknown> = {}): StateResource {
  const inputs = { name, size: "s-2vcpu-4gb", tags, ...extra };
  return {
    urn: urn(TYPES.droplet, name),
    type: TYPES.droplet,
    custom: true,
    id: `${name}-id`,
    inputs,
    outputs: { ...inputs, ipv4AddressPrivate: "10.10.0.5" },
  };
}

describe("seeding a sandbox twin's cloud from an exported stack state", () => {
  let tmp: ReturnType<typeof tempDir>;
  let cloud: SandboxCloud;
  beforeEach(() => {
    tmp = tempDir("state-seed");
    cloud = new SandboxCloud(tmp.dir);
  });
  afterEach(() => tmp.remove());

  it("stores each cloud resource under its id and URN, with the state's inputs and outputs, and derives a host's role from its tags", () => {
    const n = seedFromState(cloud, "theatl", [
      {
        urn: urn("pulumi:providers:digitalocean", "default"),
        type: "pulumi:providers:digitalocean",
        custom: true,
        id: "p1",
      },
      { urn: urn("stackyard:db:PostgresCluster", "pg"), type: "stackyard:db:PostgresCluster" },
      droplet("pg-a", ["role:pg-primary"]),
      droplet("pg-b", ["role:pg-standby"]),
      { ...droplet("old", []), delete: true },
    ]);
    assert.equal(n, 2, "providers, components and resources pending deletion are not cloud resources");
    const a = cloud.get(TYPES.droplet, "pg-a-id")!;
    assert.equal(a.urn, urn(TYPES.droplet, "pg-a"));
    assert.equal(a.stack, "theatl");
    assert.equal(a.outputs.ipv4AddressPrivate, "10.10.0.5");
    assert.deepEqual(a.inputs.tags, ["role:pg-primary"]);
    assert.deepEqual(
      cloud
        .dbNodes("theatl")
        .map((x) => [x.name, x.role])
        .sort(),
      [
        ["pg-a", "primary"],
        ["pg-b", "standby"],
      ],
    );
  });

  it("keeps a secret as the wrapped value the engine hands a provider", () => {
    seedFromState(cloud, "theatl", [
      droplet("web", [], { userData: { [SIG]: SECRET, plaintext: JSON.stringify("#cloud-config\n") } }),
    ]);
    const rec = cloud.get(TYPES.droplet, "web-id")!;
    assert.ok(isSecret(rec.inputs.userData));
    assert.equal(reveal(rec.inputs.userData), "#cloud-config\n");
  });

  it("refuses a state whose secrets are still encrypted, and a type the sandbox does not simulate", () => {
    assert.throws(
      () =>
        seedFromState(cloud, "theatl", [
          droplet("web", [], { userData: { [SIG]: SECRET, ciphertext: "v1:abc" } }),
        ]),
      /still encrypted/,
    );
    assert.throws(
      () =>
        seedFromState(cloud, "theatl", [
          {
            urn: urn("digitalocean:index/nope:Nope", "x"),
            type: "digitalocean:index/nope:Nope",
            custom: true,
            id: "x",
          },
        ]),
      /is not simulated/,
    );
  });
});
