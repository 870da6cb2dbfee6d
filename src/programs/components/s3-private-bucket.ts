import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { siteLabels, stateful, type SiteContext } from "../site-context";

export interface S3PrivateBucketArgs {
  ctx: SiteContext;
  role: string;
  bucketName: string;
  region: string;
  /** Keep old versions (backups) and expire objects after this many days. */
  versioning?: boolean;
  expireDays?: number;
  /** Adopt an existing bucket (e.g. `insync_db_backups`, whose underscore name can't be created anew). */
  importId?: string;
}

/**
 * A private S3 bucket: public access blocked, optionally versioned with an expiry rule. Used for
 * database backups (Insync) and for deploy files a host pulls (chitter's compose spec).
 */
export class S3PrivateBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucket: aws.s3.Bucket;

  constructor(name: string, args: S3PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:storage:S3PrivateBucket", name, {}, opts);
    // Every bucket is protected, deploy buckets too: the policy pack treats all buckets as data,
    // and a lost deploy bucket leaves hosts with nothing to pull.
    const bucketOpts = stateful(this, { import: args.importId });
    this.bucket = new aws.s3.Bucket(
      name,
      { bucket: args.bucketName, region: args.region, tags: siteLabels(args.ctx, args.role) },
      bucketOpts,
    );
    const child = { parent: this };
    new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: this.bucket.id,
        region: args.region,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    if (args.versioning) {
      new aws.s3.BucketVersioning(
        name,
        { bucket: this.bucket.id, region: args.region, versioningConfiguration: { status: "Enabled" } },
        child,
      );
    }
    if (args.expireDays !== undefined) {
      new aws.s3.BucketLifecycleConfiguration(
        name,
        {
          bucket: this.bucket.id,
          region: args.region,
          rules: [
            {
              id: `expire-after-${args.expireDays}-days`,
              status: "Enabled",
              filter: {},
              expiration: { days: args.expireDays },
              noncurrentVersionExpiration: { noncurrentDays: args.expireDays },
            },
          ],
        },
        child,
      );
    }
    this.bucketName = this.bucket.bucket;
    this.registerOutputs({ bucketName: this.bucketName });
  }
}
