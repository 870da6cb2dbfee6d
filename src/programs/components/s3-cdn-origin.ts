import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { siteLabels, stateful, type SiteContext } from "../site-context";

export interface S3CdnOriginArgs {
  ctx: SiteContext;
  bucketName: string;
  region: string;
  /** Recorded as a tag so a policy can flag resources in a personal account. */
  accountOwner: string;
  /**
   * Live ids to adopt (`import`) instead of creating: the bucket's name, the origin access
   * control's and the distribution's ids.
   * An import whose declared inputs differ from the live resource fails the run; it never replaces.
   * @defaultValue nothing adopted
   */
  adopt?: { bucketId?: string; originAccessControlId?: string; distributionId?: string };
  /** ARN of a WAF (v2, scope CLOUDFRONT) web ACL guarding the distribution. @defaultValue none */
  webAclId?: pulumi.Input<string>;
}

/** AWS managed cache policy "CachingOptimized". */
const CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6";

/**
 * Object storage with a CDN origin on AWS: a private S3 bucket that only CloudFront may read
 * (origin access control + bucket policy scoped to the distribution).
 */
export class S3CdnOrigin extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly cdnDomain: pulumi.Output<string>;

  constructor(name: string, args: S3CdnOriginArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:storage:S3CdnOrigin", name, {}, opts);
    const child = { parent: this };
    const tags = { ...siteLabels(args.ctx, "media"), "account-owner": args.accountOwner };
    const bucket = new aws.s3.Bucket(
      name,
      { bucket: args.bucketName, region: args.region, tags },
      stateful(this, { import: args.adopt?.bucketId }),
    );
    new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        region: args.region,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    const oac = new aws.cloudfront.OriginAccessControl(
      name,
      {
        name: `${name}-oac`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      { ...child, import: args.adopt?.originAccessControlId },
    );
    const originId = `${name}-s3`;
    const dist = new aws.cloudfront.Distribution(
      name,
      {
        enabled: true,
        isIpv6Enabled: true,
        comment: `${args.ctx.site} media`,
        origins: [{ originId, domainName: bucket.bucketRegionalDomainName, originAccessControlId: oac.id }],
        defaultCacheBehavior: {
          targetOriginId: originId,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: CACHING_OPTIMIZED,
          compress: true,
        },
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: { cloudfrontDefaultCertificate: true },
        ...(args.webAclId ? { webAclId: args.webAclId } : {}),
        tags,
      },
      { ...child, import: args.adopt?.distributionId },
    );
    new aws.s3.BucketPolicy(
      name,
      {
        bucket: bucket.id,
        region: args.region,
        policy: pulumi.all([bucket.arn, dist.arn]).apply(([b, d]) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CloudFrontReadOnly",
                Effect: "Allow",
                Principal: { Service: "cloudfront.amazonaws.com" },
                Action: "s3:GetObject",
                Resource: `${b}/*`,
                Condition: { StringEquals: { "AWS:SourceArn": d } },
              },
            ],
          }),
        ),
      },
      child,
    );
    this.bucketName = bucket.bucket;
    this.cdnDomain = dist.domainName;
    this.registerOutputs({ bucketName: this.bucketName, cdnDomain: this.cdnDomain });
  }
}
