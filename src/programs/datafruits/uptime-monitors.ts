import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";

export interface UptimeMonitorsArgs {
  /** `role → public host`, each checked over https at its root. */
  hosts: Record<string, string>;
  /** Who hears about an outage: DigitalOcean sends the alert email. */
  alertEmails: string[];
  /**
   * Probe regions. @defaultValue all four DigitalOcean offers, so one region's network trouble does
   * not page (`down_global` fires only when every region fails).
   */
  regions?: string[];
}

/** The four regions DigitalOcean Uptime probes from. */
export const UPTIME_REGIONS = ["us_east", "us_west", "eu_west", "se_asia"];

/**
 * The RFC's step 2 ("see the current status of each component ... receive an alert when something
 * goes down"), as DigitalOcean Uptime: one https check per public endpoint, an alert when it is
 * down from every region for two minutes, and one when its certificate is within 14 days of expiry
 * (cert-manager renews at 30, so this fires only when renewal is broken, or TLS is gone).
 */
export class UptimeMonitors extends pulumi.ComponentResource {
  /** `role → check id`. */
  readonly checkIds: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: UptimeMonitorsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("stackyard:monitoring:UptimeMonitors", name, {}, opts);
    const child = { parent: this };
    const notifications = [{ emails: args.alertEmails }];
    for (const [role, host] of Object.entries(args.hosts)) {
      const check = new digitalocean.UptimeCheck(
        `${name}-${role}`,
        {
          name: `${name}-${role}`,
          target: `https://${host}/`,
          type: "https",
          regions: args.regions ?? UPTIME_REGIONS,
          enabled: true,
        },
        child,
      );
      new digitalocean.UptimeAlert(
        `${name}-${role}-down`,
        { checkId: check.id, name: `${host} down`, type: "down_global", period: "2m", notifications },
        child,
      );
      new digitalocean.UptimeAlert(
        `${name}-${role}-tls`,
        {
          checkId: check.id,
          name: `${host} certificate expiring`,
          type: "ssl_expiry",
          comparison: "less_than",
          threshold: 14,
          period: "2m",
          notifications,
        },
        child,
      );
      this.checkIds[role] = check.id;
    }
    this.registerOutputs({ checkIds: this.checkIds });
  }
}
