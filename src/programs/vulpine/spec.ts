import { z } from "zod";
import type { SiteConfigOf } from "../site-definition";
import {
  adminCidrsSchema,
  envSchema,
  externalsSchema,
  ipv4CidrSchema,
  pinnedImageSchema,
} from "../config/common";
import { MASTODON_QUEUES, sidekiqSchema } from "../config/sidekiq";

/**
 * vulpine.club (seed 000): one Linode running docker-compose. Knob: `sidekiq.pools.<pool>.count`
 * (compose replicas). `compose.scale.web|streaming` are the other service scales from the seed.
 */
export const vulpineSpecSchema = z.strictObject({
  env: envSchema,
  region: z.string().min(1),
  instance: z.strictObject({
    label: z.string().min(1),
    type: z.string().min(1),
    image: z.string().min(1),
    backups: z.boolean(),
    /**
     * The live Linode's id: smithwicks exists and Linode labels are unique, so a first run adopts it
     * (`import`) instead of building a second one. Find it with `linode-cli linodes list --label smithwicks`.
     */
    importId: z.string().regex(/^\d+$/).optional(),
  }),
  ipv6: z.strictObject({ range: z.string().min(1), nginxAddress: z.string().min(1) }),
  /** Docker's IPv4 NAT range for external_network, hardcoded by the operators. */
  ipv4Nat: ipv4CidrSchema,
  adminCidrs: adminCidrsSchema,
  compose: z.strictObject({
    mastodonImage: pinnedImageSchema,
    scale: z.strictObject({ web: z.int().min(1).max(8), streaming: z.int().min(1).max(8) }),
  }),
  sidekiq: sidekiqSchema({ requiredQueues: MASTODON_QUEUES, singletonQueue: "scheduler", sized: false }),
  /** Where the rendered compose file is published for the host's sync timer. */
  deployBucket: z.strictObject({ label: z.string().min(3), region: z.string().min(1) }),
  media: z.strictObject({
    region: z.string().min(1),
    bucket: z.string().min(3),
    /** Seed: "Rey's personal AWS account - should probably move to its own". */
    accountOwner: z.enum(["personal", "site"]),
    /**
     * Live media resources to adopt instead of creating: the bucket's name, the CloudFront origin
     * access control's and distribution's ids. An import whose declared inputs differ from the live
     * resource fails the run (it never replaces): see docs/site-programs.md, vulpine.
     */
    adopt: z
      .strictObject({
        bucketId: z.string().min(3).optional(),
        originAccessControlId: z
          .string()
          .regex(/^E[A-Z0-9]+$/)
          .optional(),
        distributionId: z
          .string()
          .regex(/^E[A-Z0-9]+$/)
          .optional(),
      })
      .optional(),
  }),
  externals: externalsSchema,
});

export type VulpineSpec = z.infer<typeof vulpineSpecSchema>;

export type VulpineConfig = SiteConfigOf<"vulpine", VulpineSpec>;
