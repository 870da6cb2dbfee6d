import * as aws from "@pulumi/aws";
import * as digitalocean from "@pulumi/digitalocean";
import * as hcloud from "@pulumi/hcloud";
import * as linode from "@pulumi/linode";
import * as pulumi from "@pulumi/pulumi";
import { keyPath, SiteConfigError } from "../config/errors";
import {
  CREDENTIAL_SCHEMAS,
  CREDENTIALS_NAMESPACE,
  requiredFields,
  type Cloud,
  type CloudCredentials,
  type SiteClouds,
} from "./clouds";

/** `credentials:digitalocean`: the config key one cloud's credentials live under. */
export function credentialsKey(cloud: Cloud): string {
  return `${CREDENTIALS_NAMESPACE}:${cloud}`;
}

/** How an operator sets a missing field; the message never carries a value. */
function howToSet(cloud: Cloud, field: string): string {
  return `set it with \`pulumi config set --secret --path ${credentialsKey(cloud)}.${field} <value>\` in the site's stack`;
}

/**
 * Reads and checks one cloud's credentials from the running stack's config. A problem names the
 * key and field and how to set it, never the value.
 */
export function readCredentials<C extends Cloud>(
  cloud: C,
  needs: { objectStorage?: boolean },
  getConfig: (key: string) => string | undefined = pulumi.runtime.getConfig,
): CloudCredentials[C] {
  const key = credentialsKey(cloud);
  const raw = getConfig(key);
  if (raw === undefined)
    throw new SiteConfigError(
      `${key}: missing: this site's ${cloud} account has no credentials in its stack (${howToSet(cloud, requiredFields(cloud, needs)[0]!)})`,
    );
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new SiteConfigError(
      `${key}: expected an object of credential fields (${howToSet(cloud, "token")})`,
    );
  }
  const parsed = CREDENTIAL_SCHEMAS[cloud].safeParse(value);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) =>
        i.code === "unrecognized_keys"
          ? `${keyPath(key, [...i.path, i.keys[0]!])}: unknown field (known: ${Object.keys(CREDENTIAL_SCHEMAS[cloud].shape).join(", ")})`
          : `${keyPath(key, i.path as PropertyKey[])}: ${i.code === "invalid_type" ? `expected ${i.expected}` : i.message}`,
      );
  const present = (parsed.success ? parsed.data : {}) as Record<string, unknown>;
  for (const field of requiredFields(cloud, needs))
    if (parsed.success && present[field] === undefined)
      problems.push(
        `${key}.${field}: missing: the site keeps objects in ${cloud}'s object storage (${howToSet(cloud, field)})`,
      );
  if (problems.length > 0)
    throw new SiteConfigError(problems.length === 1 ? problems[0]! : problems.join("; "), problems);
  return parsed.data as CloudCredentials[C];
}

const secret = (v: string | undefined) => (v === undefined ? undefined : pulumi.secret(v));

/**
 * One explicit provider per cloud the site uses, configured only from the site's own stack
 * credentials. The site's root component hands them to every resource beneath it, and the stack
 * files disable default providers, so no resource can fall back to the process's ambient account.
 */
export function siteProviders<Spec>(
  site: string,
  clouds: SiteClouds<Spec>,
  spec: Spec,
): Record<string, pulumi.ProviderResource> {
  const out: Record<string, pulumi.ProviderResource> = {};
  if (clouds.digitalocean) {
    const c = readCredentials("digitalocean", clouds.digitalocean);
    out.digitalocean = new digitalocean.Provider(`${site}-digitalocean`, {
      token: secret(c.token),
      spacesAccessId: secret(c.spacesAccessId),
      spacesSecretKey: secret(c.spacesSecretKey),
    });
  }
  if (clouds.linode) {
    const c = readCredentials("linode", clouds.linode);
    out.linode = new linode.Provider(`${site}-linode`, {
      token: secret(c.token),
      objAccessKey: secret(c.objAccessKey),
      objSecretKey: secret(c.objSecretKey),
    });
  }
  if (clouds.hcloud) {
    const c = readCredentials("hcloud", {});
    out.hcloud = new hcloud.Provider(`${site}-hcloud`, { token: secret(c.token) });
  }
  if (clouds.aws) {
    const c = readCredentials("aws", {});
    out.aws = new aws.Provider(`${site}-aws`, {
      region: clouds.aws.region(spec) as aws.Region,
      accessKey: secret(c.accessKey),
      secretKey: secret(c.secretKey),
      token: secret(c.token),
    });
  }
  return out;
}
