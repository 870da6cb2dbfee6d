import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import { stateful } from "../site-context";

export interface SpacesCdnBucketArgs {
  bucketName: string;
  region: string;
  acl: "private" | "public-read";
  /** Put DigitalOcean's CDN in front, with the bucket as origin. */
  cdn?: { ttlSeconds: number };
  /** Expire objects after this many days (backup buckets). */
  expireDays?: number;
  /** With versioning: delete replaced and deleted versions after this many days. */
  noncurrentExpireDays?: number;
  versioning?: boolean;
}

/**
 * Object storage with an optional CDN origin (Spaces + DigitalOcean CDN). Buckets hold data, so
 * they are protected; Spaces buckets cannot carry tags, which the policy pack knows.
 */
export class SpacesCdnBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketDomainName: pulumi.Output<string>;
  readonly cdnEndpoint?: pulumi.Output<string>;

  constructor(name: string, args: SpacesCdnBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:storage:SpacesCdnBucket", name, {}, opts);
    const bucket = new digitalocean.SpacesBucket(
      name,
      {
        name: args.bucketName,
        region: args.region,
        acl: args.acl,
        versioning: args.versioning ? { enabled: true } : undefined,
        lifecycleRules:
          args.expireDays !== undefined || args.noncurrentExpireDays !== undefined
            ? [
                {
                  enabled: true,
                  expiration: args.expireDays !== undefined ? { days: args.expireDays } : undefined,
                  noncurrentVersionExpiration:
                    args.noncurrentExpireDays !== undefined ? { days: args.noncurrentExpireDays } : undefined,
                },
              ]
            : undefined,
      },
      stateful(this),
    );
    this.bucketName = bucket.name;
    this.bucketDomainName = bucket.bucketDomainName;
    if (args.cdn) {
      const cdn = new digitalocean.Cdn(
        name,
        { origin: bucket.bucketDomainName, ttl: args.cdn.ttlSeconds },
        { parent: this },
      );
      this.cdnEndpoint = cdn.endpoint;
    }
    this.registerOutputs({ bucketName: this.bucketName, cdnEndpoint: this.cdnEndpoint });
  }
}
