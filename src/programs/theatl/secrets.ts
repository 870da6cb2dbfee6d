import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHmac } from "node:crypto";
import type { HostSecrets } from "./hosts";

/**
 * The hosts' shared passwords and Mastodon's application secrets. This project has no random
 * provider, and a password generated on one host and fetched by the others is not sound (a
 * replaced Redis host would mint a new one its clients never learn). So the randomness comes from
 * the one provider here that generates a secret and keeps it in state: the secret access key of an
 * IAM user with no policy at all (it can do nothing with AWS). Each password is an HMAC of that seed
 * with its purpose, so the seed itself never reaches a host; all of them are Pulumi secrets.
 * Rotating = replacing the seed key (`pulumi up --replace` on it), which changes every password at
 * once: Redis, PostgreSQL and the apps pick the new values on their next deploy run.
 */
export function theatlSecrets(parent: pulumi.Resource): pulumi.Output<HostSecrets> {
  const user = new aws.iam.User(
    "theatl-secret-seed",
    { name: "theatl-secret-seed", tags: { site: "theatl", role: "secret-seed" } },
    { parent },
  );
  const seed = new aws.iam.AccessKey("theatl-secret-seed", { user: user.name }, { parent });
  return pulumi.secret(
    seed.secret.apply((k) => {
      if (!k) throw new Error("theatl-secret-seed: the access key has no secret to derive passwords from");
      const derive = (purpose: string) => createHmac("sha256", k).update(`theatl:${purpose}`).digest("hex");
      const long = (purpose: string) => derive(`${purpose}:1`) + derive(`${purpose}:2`);
      return {
        redisPassword: derive("redis"),
        dbPassword: derive("postgres"),
        replicationPassword: derive("replication"),
        secretKeyBase: long("secret_key_base"),
        otpSecret: long("otp_secret"),
        arPrimaryKey: derive("ar_primary"),
        arDeterministicKey: derive("ar_deterministic"),
        arKeyDerivationSalt: derive("ar_salt"),
      };
    }),
  );
}
