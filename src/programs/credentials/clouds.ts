import { z } from "zod";

/**
 * The clouds a site's program may call. Each site is its own organisation with its own account on
 * each: its credentials live in its own stack's secret config under `credentials:<cloud>` (encrypted
 * by the stack's secrets provider) and reach only the providers its program creates from them.
 */
export const CLOUDS = ["digitalocean", "linode", "hcloud", "aws"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** The config namespace of the credentials (`credentials:digitalocean`, `credentials:aws`, …). */
export const CREDENTIALS_NAMESPACE = "credentials";

const credential = z.string().min(1, "must not be empty");

/** The fields of `credentials:<cloud>`, named as the cloud's provider names its arguments. */
export const CREDENTIAL_SCHEMAS = {
  digitalocean: z.strictObject({
    token: credential,
    spacesAccessId: credential.optional(),
    spacesSecretKey: credential.optional(),
  }),
  linode: z.strictObject({
    token: credential,
    objAccessKey: credential.optional(),
    objSecretKey: credential.optional(),
  }),
  hcloud: z.strictObject({ token: credential }),
  aws: z.strictObject({ accessKey: credential, secretKey: credential, token: credential.optional() }),
} satisfies Record<Cloud, z.ZodType>;

export type CloudCredentials = { [C in Cloud]: z.output<(typeof CREDENTIAL_SCHEMAS)[C]> };

/**
 * What each site asks of each cloud it uses. Object storage (Spaces, Linode Object Storage) is
 * signed with its own key pair, which the provider then requires.
 */
export interface SiteClouds<Spec> {
  digitalocean?: { objectStorage: boolean };
  linode?: { objectStorage: boolean };
  hcloud?: Record<string, never>;
  /** The provider's default region; resources in another region name theirs. */
  aws?: { region(spec: Spec): string };
}

/** The object-storage key pair of each cloud that has one. */
export const OBJECT_STORAGE_FIELDS: Partial<Record<Cloud, readonly string[]>> = {
  digitalocean: ["spacesAccessId", "spacesSecretKey"],
  linode: ["objAccessKey", "objSecretKey"],
};

/** The credential fields a site's stack must hold for `cloud`: required ones first. */
export function requiredFields(cloud: Cloud, needs: { objectStorage?: boolean }): string[] {
  const required = Object.entries(CREDENTIAL_SCHEMAS[cloud].shape)
    .filter(([, s]) => !s.isOptional())
    .map(([k]) => k);
  return needs.objectStorage ? [...required, ...(OBJECT_STORAGE_FIELDS[cloud] ?? [])] : required;
}

/**
 * Environment variables through which a cloud's provider (or its SDK) would pick up ambient
 * credentials. The engine blanks every one for the CLI and its plugins, so a site's provider sees
 * only what its stack gave it, never the service's environment.
 */
export const AMBIENT_CREDENTIAL_ENV: Record<Cloud | "kubernetes", readonly string[]> = {
  digitalocean: [
    "DIGITALOCEAN_TOKEN",
    "DIGITALOCEAN_ACCESS_TOKEN",
    "SPACES_ACCESS_KEY_ID",
    "SPACES_SECRET_ACCESS_KEY",
  ],
  linode: ["LINODE_TOKEN", "LINODE_API_TOKEN", "LINODE_OBJ_ACCESS_KEY", "LINODE_OBJ_SECRET_KEY"],
  hcloud: ["HCLOUD_TOKEN"],
  aws: [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  ],
  kubernetes: ["KUBECONFIG"],
};

export const ALL_AMBIENT_CREDENTIAL_ENV: readonly string[] = Object.values(AMBIENT_CREDENTIAL_ENV).flat();

/**
 * Beyond variables, the AWS SDK looks in the user's shared files and the instance metadata service:
 * the engine points both files at nothing and turns the metadata lookup off.
 */
export const AMBIENT_CREDENTIAL_OVERRIDES: Readonly<Record<string, string>> = {
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
};
