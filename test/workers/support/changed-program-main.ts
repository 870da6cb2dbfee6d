import type * as pulumi from "@pulumi/pulumi";
import { parseSiteConfig } from "../../../src/programs/site-config";
import { readStackConfig, siteProgram } from "../../../src/programs/program";
import { startServiceProcess } from "../../../src/service/run-process";

/**
 * The service process with a change to the site programs, standing in for a bad commit to
 * src/programs/: everything above the program (API, queue, engine, policy pack) is the service's
 * own. STACKYARD_TEST_PROGRAM_CHANGE names the change:
 *   unprotect:<name>          the resource <name> loses `protect`
 *   untag:<prefix>            droplets named <prefix>* lose their `site:` tag
 *   retag:<prefix>:<site>     droplets named <prefix>* are tagged for another site
 */
function changeFrom(spec: string): pulumi.ResourceTransformation {
  const [kind, target, other] = spec.split(":");
  const droplet = (args: pulumi.ResourceTransformationArgs) =>
    args.type === "digitalocean:index/droplet:Droplet" && args.name.startsWith(target ?? "\u0000");
  const tags = (args: pulumi.ResourceTransformationArgs) =>
    (args.props.tags as string[]).filter((t) => !t.startsWith("site:"));
  switch (kind) {
    case "unprotect":
      return (args) =>
        args.name === target ? { props: args.props, opts: { ...args.opts, protect: false } } : undefined;
    case "untag":
      return (args) =>
        droplet(args) ? { props: { ...args.props, tags: tags(args) }, opts: args.opts } : undefined;
    case "retag":
      return (args) =>
        droplet(args)
          ? { props: { ...args.props, tags: [...tags(args), `site:${other}`] }, opts: args.opts }
          : undefined;
    default:
      throw new Error(`STACKYARD_TEST_PROGRAM_CHANGE: unknown change ${JSON.stringify(spec)}`);
  }
}

const change = changeFrom(process.env.STACKYARD_TEST_PROGRAM_CHANGE ?? "");

startServiceProcess({
  program: () => async () => siteProgram(parseSiteConfig(readStackConfig()), { transformations: [change] }),
});
