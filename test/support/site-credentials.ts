import * as assert from "node:assert/strict";
import { readCalls } from "../../src/sandbox/call-log";
import type { SiteId } from "../../src/programs/site-config";
import { credentialFingerprint } from "../../src/sandbox/credential-fingerprint";
import { sandboxSiteCredentials } from "../../src/sandbox/site-credentials";

/** Credentials in the service's own environment, which no site's provider may see. */
export const AMBIENT_CREDENTIALS: Record<string, string> = {
  DIGITALOCEAN_TOKEN: "sandbox-ambient-digitalocean",
  LINODE_TOKEN: "sandbox-ambient-linode",
  HCLOUD_TOKEN: "sandbox-ambient-hcloud",
  AWS_ACCESS_KEY_ID: "sandbox-ambient-aws-id",
  AWS_SECRET_ACCESS_KEY: "sandbox-ambient-aws-secret",
};

/** package → field → digest, of a site's sandbox credentials. */
export function expectedFingerprints(site: SiteId): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(sandboxSiteCredentials(site)).map(([key, fields]) => [
      key.split(":")[1]!,
      Object.fromEntries(Object.entries(fields).map(([f, v]) => [f, credentialFingerprint(v)])),
    ]),
  );
}

/**
 * Every call a site's simulated account (`dir`) answered came from a provider configured with
 * that site's own credentials (the call log keeps digests), and no plugin saw cloud credentials
 * in its environment even where the process that ran the engine held some. Returns the number of
 * resource calls checked.
 */
export function assertOwnCredentialsOnly(dir: string, site: SiteId, since = 0): number {
  const calls = readCalls(dir).filter((call) => Date.parse(call.ts) >= since);
  const expected = expectedFingerprints(site);
  // Kubernetes resources are reached with the cluster's own kubeconfig, not an account credential.
  const resourceCalls = calls.filter((call) => call.urn && call.package !== "kubernetes");
  assert.ok(resourceCalls.length > 0, `${site}: no resource calls to check`);
  for (const call of resourceCalls)
    assert.deepEqual(
      call.credentials,
      expected[call.package],
      `${call.method} ${call.urn}: configured with ${site}'s ${call.package} credentials`,
    );
  const configures = calls.filter((call) => call.method === "configure");
  assert.ok(configures.length > 0, `${site}: no provider was configured`);
  for (const call of configures) assert.deepEqual(call.ambient, [], `${call.package} plugin environment`);
  return resourceCalls.length;
}
