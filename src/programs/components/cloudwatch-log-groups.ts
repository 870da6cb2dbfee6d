import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { siteLabels, type SiteContext } from "../site-context";

export interface CloudWatchLogGroupsArgs {
  ctx: SiteContext;
  /** `/theatl/mastodon` → `/theatl/mastodon/<service>`. */
  prefix: string;
  services: string[];
  region: string;
  retentionDays: number;
}

/**
 * One CloudWatch log group per service, the targets of the docker `awslogs` driver. The groups
 * exist before any host ships logs, with a retention so the bill stays bounded.
 */
export class CloudWatchLogGroups extends pulumi.ComponentResource {
  readonly groupNames: string[];

  constructor(name: string, args: CloudWatchLogGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:logs:CloudWatchLogGroups", name, {}, opts);
    this.groupNames = args.services.map((svc) => {
      const groupName = `${args.prefix}/${svc}`;
      new aws.cloudwatch.LogGroup(
        `${name}-${svc}`,
        {
          name: groupName,
          region: args.region,
          retentionInDays: args.retentionDays,
          tags: siteLabels(args.ctx, svc),
        },
        { parent: this },
      );
      return groupName;
    });
    this.registerOutputs({ groupNames: this.groupNames });
  }
}
