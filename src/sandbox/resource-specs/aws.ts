import { SimulatedApiError } from "../fault-plan";
import { Props, reveal, secret, str } from "../property-values";
import {
  Allocator,
  ProviderConfig,
  ResourceSpec,
  SpecContext,
  autoName,
  defaultsOf,
  fixed,
  keep,
  nowIso,
  simple,
} from "./spec";

// AWS (v7 SDK): S3 buckets and their per-feature resources, CloudFront, CloudWatch Logs, IAM and
// OpenSearch. Bucket names, log group names and policy names force replacement; tags, retention,
// policies and the like update in place. The account is the documentation account 123456789012.
// A bucket that still holds objects refuses deletion unless forceDestroy, as S3 does.

export const AWS_ACCOUNT = "123456789012";
const t = (mod: string, name: string) => `aws:${mod}/${name[0]!.toLowerCase()}${name.slice(1)}:${name}`;

export function awsRegion(config: ProviderConfig): string {
  return str(config, "region") ?? "us-east-1";
}

/** tagsAll = provider defaultTags merged under the resource's own tags, like the real provider. */
function tagsAll(inputs: Props, config: ProviderConfig): Props {
  const defaults = ((reveal(config.defaultTags) as Props | undefined)?.tags as Props | undefined) ?? {};
  return { ...defaults, ...((reveal(inputs.tags) as Props | undefined) ?? {}) };
}

const upperAlnum = (ctx: { alloc: Allocator }, n: number) => ctx.alloc.hex(n).toUpperCase();
const common = (inputs: Props, ctx: SpecContext): Props => ({
  region: str(inputs, "region") ?? awsRegion(ctx.config),
  tagsAll: tagsAll(inputs, ctx.config),
});

const bucket = (name: string): ResourceSpec => ({
  type: t("s3", name),
  newId(inputs) {
    const b = str(inputs, "bucket") ?? "bucket";
    // New buckets must follow the current naming rules; legacy names (e.g. with "_") can only be imported.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))
      throw new SimulatedApiError(400, `InvalidBucketName: "${b}" is not a valid name for a new bucket`);
    return b;
  },
  replaceOn: ["bucket", "bucketPrefix", "objectLockEnabled", "region"],
  deleteBeforeReplace: (news) => news.bucket !== undefined,
  defaults: defaultsOf(
    (news, olds, ctx) => (news.bucketPrefix !== undefined ? {} : autoName("bucket")(news, olds, ctx)),
    fixed({ forceDestroy: false }),
  ),
  computed: (inputs, ctx) => {
    const region = str(inputs, "region") ?? awsRegion(ctx.config);
    return {
      ...common(inputs, ctx),
      arn: `arn:aws:s3:::${ctx.id}`,
      bucketDomainName: `${ctx.id}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${ctx.id}.s3.${region}.amazonaws.com`,
      hostedZoneId: "Z3AQBSTGFYJSTF",
      objectLockEnabled: reveal(inputs.objectLockEnabled) ?? false,
    };
  },
  beforeDelete(outputs, ctx) {
    if (reveal(outputs.forceDestroy) === true) return;
    const held = ["BucketObjectv2", "BucketObject"]
      .flatMap((n) => ctx.store.list(t("s3", n)))
      .filter((o) => str(o.inputs, "bucket") === ctx.id);
    if (held.length > 0)
      throw new SimulatedApiError(
        409,
        `BucketNotEmpty: bucket ${ctx.id} still holds ${held.length} object(s)`,
      );
  },
});

/** Per-bucket feature resources: one per bucket, id = bucket name, replaced when the bucket changes. */
const bucketFeature = (name: string) =>
  simple(t("s3", name), (i) => str(i, "bucket") ?? "bucket", {
    replaceOn: ["bucket", "expectedBucketOwner"],
    computed: (i, ctx) => ({ region: str(i, "region") ?? awsRegion(ctx.config) }),
  });

const BUCKET_FEATURES = [
  "BucketVersioning",
  "BucketServerSideEncryptionConfiguration",
  "BucketLifecycleConfiguration",
  "BucketPublicAccessBlock",
  "BucketOwnershipControls",
  "BucketPolicy",
  "BucketCorsConfiguration",
  "BucketWebsiteConfiguration",
  "BucketAcl",
  "BucketLogging",
];

const object = (name: string) =>
  simple(t("s3", name), (i) => str(i, "key") ?? "object", {
    replaceOn: ["bucket", "key"],
    computed: (inputs, ctx) => ({
      ...common(inputs, ctx),
      etag: keep(ctx, "etag", () => ctx.alloc.hex(32)),
      versionId: "",
      arn: `arn:aws:s3:::${str(inputs, "bucket")}/${ctx.id}`,
      contentType: str(inputs, "contentType") ?? "binary/octet-stream",
    }),
  });

const distribution: ResourceSpec = simple(
  t("cloudfront", "Distribution"),
  (_i, ctx) => `E${upperAlnum(ctx, 13)}`,
  {
    validate: (i) =>
      ["origins", "defaultCacheBehavior", "restrictions", "viewerCertificate", "enabled"]
        .filter((k) => i[k] === undefined)
        .map((k) => ({ property: k, reason: `${k} is required` })),
    computed: (inputs, ctx) => ({
      arn: `arn:aws:cloudfront::${AWS_ACCOUNT}:distribution/${ctx.id}`,
      domainName: keep(ctx, "domainName", () => `d${ctx.alloc.hex(13)}.cloudfront.net`),
      hostedZoneId: "Z2FDTNDATAQYW2",
      status: "Deployed",
      etag: keep(ctx, "etag", () => `E${upperAlnum(ctx, 13)}`),
      callerReference: keep(ctx, "callerReference", () => `terraform-${ctx.alloc.hex(20)}`),
      inProgressValidationBatches: 0,
      lastModifiedTime: keep(ctx, "lastModifiedTime", nowIso),
      trustedKeyGroups: [{ enabled: false, items: [] }],
      trustedSigners: [{ enabled: false, items: [] }],
      tagsAll: tagsAll(inputs, ctx.config),
    }),
  },
);

const logGroup: ResourceSpec = simple(t("cloudwatch", "LogGroup"), (i) => str(i, "name") ?? "log-group", {
  replaceOn: ["name", "namePrefix", "logGroupClass", "region"],
  defaults: defaultsOf(
    (n, o, c) => (n.namePrefix !== undefined ? {} : autoName("name")(n, o, c)),
    fixed({ retentionInDays: 0, skipDestroy: false, logGroupClass: "STANDARD" }),
  ),
  computed: (inputs, ctx) => ({
    ...common(inputs, ctx),
    arn: `arn:aws:logs:${str(inputs, "region") ?? awsRegion(ctx.config)}:${AWS_ACCOUNT}:log-group:${ctx.id}`,
  }),
});

const iamUser: ResourceSpec = simple(t("iam", "User"), (i) => str(i, "name") ?? "user", {
  defaults: defaultsOf(autoName("name"), fixed({ path: "/", forceDestroy: false })),
  computed: (inputs, ctx) => ({
    arn: `arn:aws:iam::${AWS_ACCOUNT}:user${str(inputs, "path") ?? "/"}${ctx.id}`,
    uniqueId: keep(ctx, "uniqueId", () => `AIDA${upperAlnum(ctx, 17)}`),
    tagsAll: tagsAll(inputs, ctx.config),
  }),
});

const accessKey: ResourceSpec = simple(
  t("iam", "AccessKey"),
  (_i, ctx) => `AKIASANDBOX${upperAlnum(ctx, 9)}`,
  {
    replaceOn: ["user", "pgpKey"],
    defaults: defaultsOf(fixed({ status: "Active" })),
    // The key id carries SANDBOX so mode-guard.ts never mistakes it for a real credential.
    computed: (_i, ctx) => ({
      secret: secret(reveal(ctx.prior?.secret) ?? ctx.alloc.password() + ctx.alloc.password().slice(0, 16)),
      createDate: keep(ctx, "createDate", nowIso),
      sesSmtpPasswordV4: secret("sandbox-smtp"),
    }),
  },
);

export const awsSpecs: ResourceSpec[] = [
  bucket("Bucket"),
  bucket("BucketV2"),
  ...BUCKET_FEATURES.flatMap((n) => [bucketFeature(n), bucketFeature(`${n}V2`)]),
  object("BucketObjectv2"),
  object("BucketObject"),
  distribution,
  simple(t("cloudfront", "OriginAccessControl"), (_i, ctx) => `E${upperAlnum(ctx, 13)}`, {
    computed: (_i, ctx) => ({
      etag: keep(ctx, "etag", () => `E${upperAlnum(ctx, 13)}`),
      arn: `arn:aws:cloudfront::${AWS_ACCOUNT}:origin-access-control/${ctx.id}`,
    }),
  }),
  simple(t("cloudfront", "OriginAccessIdentity"), (_i, ctx) => `E${upperAlnum(ctx, 13)}`, {
    computed: (_i, ctx) => ({
      iamArn: `arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity ${ctx.id}`,
      s3CanonicalUserId: keep(ctx, "s3CanonicalUserId", () => ctx.alloc.hex(64)),
      cloudfrontAccessIdentityPath: `origin-access-identity/cloudfront/${ctx.id}`,
      etag: keep(ctx, "etag", () => `E${upperAlnum(ctx, 13)}`),
      callerReference: keep(ctx, "callerReference", () => ctx.alloc.uuid()),
    }),
  }),
  logGroup,
  // WAF (v2) web ACLs; a CLOUDFRONT-scoped one lives in us-east-1 and guards distributions.
  simple(t("wafv2", "WebAcl"), (_i, ctx) => ctx.alloc.uuid(), {
    replaceOn: ["name", "scope", "region"],
    computed: (inputs, ctx) => ({
      arn: `arn:aws:wafv2:${str(inputs, "region") ?? awsRegion(ctx.config)}:${AWS_ACCOUNT}:${
        str(inputs, "scope") === "CLOUDFRONT" ? "global" : "regional"
      }/webacl/${str(inputs, "name") ?? ctx.name}/${ctx.id}`,
      capacity: 25,
      lockToken: keep(ctx, "lockToken", () => ctx.alloc.uuid()),
      tagsAll: tagsAll(inputs, ctx.config),
    }),
  }),
  iamUser,
  simple(t("iam", "UserPolicy"), (i) => `${str(i, "user")}:${str(i, "name")}`, {
    replaceOn: ["user", "name", "namePrefix"],
    defaults: defaultsOf(autoName("name")),
  }),
  accessKey,
  simple(
    t("iam", "Policy"),
    (i) => `arn:aws:iam::${AWS_ACCOUNT}:policy${str(i, "path") ?? "/"}${str(i, "name")}`,
    {
      replaceOn: ["name", "namePrefix", "path"],
      defaults: defaultsOf(autoName("name"), fixed({ path: "/" })),
      computed: (inputs, ctx) => ({
        arn: ctx.id,
        policyId: keep(ctx, "policyId", () => `ANPA${upperAlnum(ctx, 17)}`),
        attachmentCount: 0,
        tagsAll: tagsAll(inputs, ctx.config),
      }),
    },
  ),
  simple(t("iam", "Role"), (i) => str(i, "name") ?? "role", {
    replaceOn: ["name", "namePrefix", "path"],
    defaults: defaultsOf(
      autoName("name"),
      fixed({ path: "/", maxSessionDuration: 3600, forceDetachPolicies: false }),
    ),
    computed: (inputs, ctx) => ({
      arn: `arn:aws:iam::${AWS_ACCOUNT}:role/${ctx.id}`,
      uniqueId: keep(ctx, "uniqueId", () => `AROA${upperAlnum(ctx, 17)}`),
      createDate: keep(ctx, "createDate", nowIso),
      tagsAll: tagsAll(inputs, ctx.config),
    }),
  }),
  simple(t("iam", "RolePolicyAttachment"), (i, ctx) => `${str(i, "role")}-${ctx.alloc.hex(20)}`, {
    replaceOn: ["role", "policyArn"],
  }),
  simple(t("iam", "UserPolicyAttachment"), (i, ctx) => `${str(i, "user")}-${ctx.alloc.hex(20)}`, {
    replaceOn: ["user", "policyArn"],
  }),
  simple(
    t("opensearch", "Domain"),
    (i, ctx) =>
      `arn:aws:es:${awsRegion(ctx.config)}:${AWS_ACCOUNT}:domain/${str(i, "domainName") ?? ctx.name}`,
    {
      replaceOn: ["domainName"],
      defaults: defaultsOf(autoName("domainName")),
      computed: (inputs, ctx) => ({
        ...common(inputs, ctx),
        arn: ctx.id,
        domainId: `${AWS_ACCOUNT}/${str(inputs, "domainName")}`,
        endpoint: keep(
          ctx,
          "endpoint",
          () =>
            `search-${str(inputs, "domainName")}-${ctx.alloc.hex(26)}.${awsRegion(ctx.config)}.es.amazonaws.com`,
        ),
      }),
    },
  ),
];
