import { PolicyPack, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import {
  DEFAULT_ALLOWED_SIZES,
  DEFAULT_RESOURCE_CEILINGS,
  FALLBACK_RESOURCE_CEILING,
} from "./policy-defaults";
import {
  RULES,
  RuleResource,
  Violation,
  checkDataPlanePrivate,
  checkOneSite,
  checkResourceCeiling,
  checkSiteTagged,
  checkSizeAllowed,
  checkStatefulProtected,
} from "./rules";

/**
 * The resource policy pack: the same rules for the service (on every preview and up it runs) and
 * for an operator's `pulumi preview --policy-pack policy-pack`. Every policy is mandatory.
 */

const asRule = (args: ResourceValidationArgs): RuleResource => ({
  type: args.type,
  name: args.name,
  props: args.props,
  protect: args.opts.protect,
});

const report = (violations: Violation[], reportViolation: (message: string) => void) =>
  violations.forEach((v) => reportViolation(`[${v.rule}] ${v.message}`));

export function createPolicyPack(): PolicyPack {
  return new PolicyPack("stackyard", {
    enforcementLevel: "mandatory",
    policies: [
      {
        name: RULES.stateful,
        description:
          "Databases, volumes, buckets and database hosts are protected from deletion and replacement.",
        configSchema: {
          properties: { allowUnprotected: { type: "array", items: { type: "string" }, default: [] } },
        },
        validateResource: (args, reportViolation) => {
          const { allowUnprotected } = args.getConfig<{ allowUnprotected: string[] }>();
          report(checkStatefulProtected(asRule(args), allowUnprotected ?? []), reportViolation);
        },
      },
      {
        name: RULES.privateData,
        description: "Database, cache and queue ports are reachable only from the private network.",
        validateResource: (args, reportViolation) =>
          report(checkDataPlanePrivate(asRule(args)), reportViolation),
      },
      {
        name: RULES.tags,
        description: "Every taggable resource carries the site's tag.",
        validateResource: (args, reportViolation) => report(checkSiteTagged(asRule(args)), reportViolation),
      },
      {
        name: RULES.sizes,
        description: "Droplet, instance, server and database sizes come from an allow-list.",
        configSchema: { properties: { sizes: { type: "object", default: DEFAULT_ALLOWED_SIZES } } },
        validateResource: (args, reportViolation) => {
          const { sizes } = args.getConfig<{ sizes: Record<string, string[]> }>();
          report(checkSizeAllowed(asRule(args), sizes ?? DEFAULT_ALLOWED_SIZES), reportViolation);
        },
      },
      {
        name: RULES.oneSite,
        description: "All resources of a stack are tagged for one site.",
        validateStack: (args: StackValidationArgs, reportViolation) =>
          report(checkOneSite(args.resources.map(stackResource)), reportViolation),
      },
      {
        name: RULES.ceiling,
        description: "A stack stays under its site's resource count ceiling.",
        configSchema: {
          properties: {
            ceilings: { type: "object", default: DEFAULT_RESOURCE_CEILINGS },
            fallback: { type: "number", default: FALLBACK_RESOURCE_CEILING },
          },
        },
        validateStack: (args: StackValidationArgs, reportViolation) => {
          const { ceilings, fallback } = args.getConfig<{
            ceilings: Record<string, number>;
            fallback: number;
          }>();
          report(
            checkResourceCeiling(
              args.resources.map(stackResource),
              ceilings ?? DEFAULT_RESOURCE_CEILINGS,
              fallback ?? FALLBACK_RESOURCE_CEILING,
            ),
            reportViolation,
          );
        },
      },
    ],
  });
}

function stackResource(r: StackValidationArgs["resources"][number]): RuleResource {
  return { type: r.type, name: r.name, props: r.props, protect: r.opts.protect };
}
