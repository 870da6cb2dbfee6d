import * as assert from "node:assert/strict";
import { engineEnv } from "../../src/engine/engine-env";
import { proxiedBackendUrl } from "../../src/engine/state-backend";
import { ConfigError, loadServiceConfig, serviceSecrets } from "../../src/service/config";

const S3_URL = "s3://state?endpoint=http%3A%2F%2F127.0.0.1%3A9000&s3ForcePathStyle=true&region=us-east-1";
const KEYS = {
  STACKYARD_BACKEND_ACCESS_KEY_ID: "AKIDBACKEND",
  STACKYARD_BACKEND_SECRET_ACCESS_KEY: "backend-secret",
};

/** PULUMI_BACKEND_URL and the backend's key pair: parsed at start-up, a bad value named. */
describe("state backend settings", () => {
  const load = (env: Record<string, string>) => loadServiceConfig({ STACKYARD_STATE_DIR: "/srv/sy", ...env });
  const refuses = (env: Record<string, string>, field: RegExp) =>
    assert.throws(
      () => load(env),
      (err: Error) => err instanceof ConfigError && field.test(err.message),
    );

  it("defaults to the file:// folder STACKYARD_BACKEND_DIR names (or the state dir's backend/)", () => {
    assert.deepEqual(load({}).backend, {
      kind: "file",
      url: "file:///srv/sy/backend",
      dir: "/srv/sy/backend",
    });
    assert.equal(load({ STACKYARD_BACKEND_DIR: "/data/state" }).backend.url, "file:///data/state");
    assert.equal(load({ PULUMI_BACKEND_URL: "file:///mnt/shared" }).backend.url, "file:///mnt/shared");
  });

  it("reads an s3:// URL with its endpoint, path style and region, and the dedicated key pair", () => {
    const cfg = load({ PULUMI_BACKEND_URL: S3_URL, ...KEYS });
    assert.deepEqual(cfg.backend, {
      kind: "s3",
      url: S3_URL,
      bucket: "state",
      prefix: "",
      endpoint: "http://127.0.0.1:9000",
      region: "us-east-1",
      pathStyle: true,
      credentials: { accessKeyId: "AKIDBACKEND", secretAccessKey: "backend-secret" },
    });
    assert.ok(
      serviceSecrets(cfg).includes("backend-secret"),
      "the secret key is redacted wherever it would appear",
    );
    const prefixed = load({ PULUMI_BACKEND_URL: "s3://state/teams/ops?region=eu-west-1", ...KEYS }).backend;
    assert.equal(prefixed.kind === "s3" && prefixed.prefix, "teams/ops");
  });

  it("takes Pulumi Cloud's URL as it is", () => {
    assert.deepEqual(load({ PULUMI_BACKEND_URL: "https://api.pulumi.com" }).backend, {
      kind: "cloud",
      url: "https://api.pulumi.com",
    });
  });

  it("refuses what the engine would refuse, or could not sign for, naming the setting", () => {
    refuses({ PULUMI_BACKEND_URL: "gs://bucket" }, /^PULUMI_BACKEND_URL: must start with/);
    refuses(
      { PULUMI_BACKEND_URL: "s3://state?region=us-east-1" },
      /^PULUMI_BACKEND_URL: .*STACKYARD_BACKEND_ACCESS_KEY_ID/,
    );
    refuses({ PULUMI_BACKEND_URL: "s3://state", ...KEYS }, /^PULUMI_BACKEND_URL: .*region/);
    refuses(
      { PULUMI_BACKEND_URL: `${S3_URL}&disableSSl=true`, ...KEYS },
      /^PULUMI_BACKEND_URL: unknown s3:\/\/ option disableSSl/,
    );
    refuses({ PULUMI_BACKEND_URL: "file://relative/dir" }, /^PULUMI_BACKEND_URL: .*absolute/);
    refuses(
      { PULUMI_BACKEND_URL: S3_URL, STACKYARD_BACKEND_ACCESS_KEY_ID: "AKID" },
      /^STACKYARD_BACKEND_SECRET_ACCESS_KEY: set both/,
    );
    refuses({ ...KEYS }, /^STACKYARD_BACKEND_ACCESS_KEY_ID: only for an s3/);
    refuses(
      { PULUMI_BACKEND_URL: "https://api.pulumi.com", ...KEYS },
      /^STACKYARD_BACKEND_ACCESS_KEY_ID: only for an s3/,
    );
  });

  it("hands the engine the signing proxy's anonymous URL and no key: ambient AWS settings and the pair stay blanked", () => {
    const cfg = load({ PULUMI_BACKEND_URL: S3_URL + "&ssetype=AES256&profile=ops", ...KEYS });
    if (cfg.backend.kind !== "s3") throw new Error("expected an s3 backend");
    const settings = { stateDir: cfg.backendDir, backend: cfg.backend, pulumiHome: "/h", passphrase: "p" };
    assert.throws(() => engineEnv(settings), /signing proxy/);
    const proxied = proxiedBackendUrl(cfg.backend, "http://127.0.0.1:4567/tok");
    const u = new URL(proxied);
    assert.equal(u.hostname, "state");
    assert.deepEqual(Object.fromEntries(u.searchParams), {
      region: "us-east-1",
      endpoint: "http://127.0.0.1:4567/tok",
      s3ForcePathStyle: "true",
      anonymous: "true",
      ssetype: "AES256",
    });
    const env = engineEnv(settings, proxied);
    assert.equal(env.PULUMI_BACKEND_URL, proxied);
    assert.equal(env.AWS_ACCESS_KEY_ID, "");
    assert.equal(env.AWS_SECRET_ACCESS_KEY, "");
    assert.equal(env.STACKYARD_BACKEND_ACCESS_KEY_ID, "", "the service's own settings are not passed on");
    assert.equal(env.STACKYARD_BACKEND_SECRET_ACCESS_KEY, "");
    assert.equal(env.AWS_SESSION_TOKEN, "", "other ambient AWS settings stay blanked");
    assert.equal(env.AWS_PROFILE, "");
    assert.equal(
      Object.values(env).some((v) => v.includes("backend-secret") || v.includes("AKIDBACKEND")),
      false,
    );
    const file = engineEnv({ ...settings, backend: load({}).backend });
    assert.equal(file.PULUMI_BACKEND_URL, "file:///srv/sy/backend");
    assert.equal(file.AWS_ACCESS_KEY_ID, "", "a file backend passes no AWS key at all");
  });
});
