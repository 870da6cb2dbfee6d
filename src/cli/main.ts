#!/usr/bin/env node
import { loadPolicyOverrides, packConfigFor } from "../policy/policy-settings";
import { SITE_IDS, type SiteId } from "../programs/site-config";
import { CliClient, CliHttpError } from "./http-client";
import { resolveTarget } from "./local-service";
import { tokenCreate } from "./token-create";
import { ProgressRenderer } from "./progress";
import { followOperation } from "./sse";

const USAGE = `usage: stackyard <command>
  sites                                   sites this token may see
  status <site>                           the site at a glance: revisions, pools, database, queue
  run <site> <operation> [key=value...]   queue an operation and follow it to its end
  history <site> [limit]                  operations of a site, newest first
  show <operation-id>                     one operation as JSON
  approve <operation-id>                  release an operation awaiting approval (not your own)
  policy-config <site>                    the policy pack's config for a site, as the service runs it
                                          (for pulumi preview --policy-pack-config; reads STACKYARD_POLICY_FILE)
  token create --id <id> --sites <a,b|*> --scopes <s,...> [--operations <k,...|*>]
                                          a new token and the STACKYARD_TOKENS entry to add (no service needed)
environment: STACKYARD_URL (default: the local service's, else http://127.0.0.1:8080),
  STACKYARD_TOKEN (default: a local sandbox's first-run token, for a loopback URL only),
  STACKYARD_STATE_DIR (where a local service keeps those; default .stackyard/ of this checkout)`;

/** Exit codes scripts can key on. */
const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

const out = (s: string) => process.stdout.write(s + "\n");
const err = (s: string) => process.stderr.write(s + "\n");

/** `count=5` → 5, `allowNoStandby=true` → true, anything else stays a string. */
export function parseParams(pairs: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const p of pairs) {
    const i = p.indexOf("=");
    if (i <= 0) throw new UsageError(`expected key=value, got "${p}"`);
    const [k, v] = [p.slice(0, i), p.slice(i + 1)];
    params[k] = /^-?\d+$/.test(v) ? Number(v) : v === "true" ? true : v === "false" ? false : v;
  }
  return params;
}

class UsageError extends Error {}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  if (!cmd || cmd === "help" || cmd === "--help") {
    out(USAGE);
    return cmd ? EXIT.ok : EXIT.usage;
  }
  if (cmd === "policy-config") {
    const site = args[0];
    if (!site || !(SITE_IDS as readonly string[]).includes(site))
      throw new UsageError(`policy-config <site>: one of ${SITE_IDS.join(", ")}`);
    out(
      JSON.stringify(
        packConfigFor(site as SiteId, loadPolicyOverrides(process.env.STACKYARD_POLICY_FILE)),
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  if (cmd === "token") {
    if (args[0] !== "create") throw new UsageError("token create --id <id> --sites <...> --scopes <...>");
    const r = tokenCreate(args.slice(1));
    if (!r.ok) throw new UsageError(r.message);
    out(r.text);
    return EXIT.ok;
  }
  const target = resolveTarget();
  if (!target.token)
    throw new UsageError(
      "STACKYARD_TOKEN is not set (and no local first-run token: start the sandbox once with `npm start`)",
    );
  const client = new CliClient(target.url, target.token);

  switch (cmd) {
    case "sites": {
      const r = await client.json("GET", "/v1/sites");
      for (const s of r.sites) out(s.site);
      return EXIT.ok;
    }
    case "status": {
      const [site] = args;
      if (!site) throw new UsageError("status <site>");
      out((await client.text("GET", `/v1/sites/${encodeURIComponent(site)}`)).trimEnd());
      return EXIT.ok;
    }
    case "history": {
      const [site, limit] = args;
      if (!site) throw new UsageError("history <site> [limit]");
      const r = await client.json(
        "GET",
        `/v1/sites/${encodeURIComponent(site)}/operations?limit=${Number(limit ?? 20)}`,
      );
      for (const o of r.operations)
        out(
          [o.createdAt, o.id, o.status.padEnd(9), o.plan?.summary ?? o.kind, o.requester?.tokenId ?? ""].join(
            "  ",
          ),
        );
      return EXIT.ok;
    }
    case "show": {
      if (!args[0]) throw new UsageError("show <operation-id>");
      out(JSON.stringify(await client.json("GET", `/v1/operations/${encodeURIComponent(args[0])}`), null, 2));
      return EXIT.ok;
    }
    case "approve": {
      if (!args[0]) throw new UsageError("approve <operation-id>");
      const r = await client.json("POST", `/v1/operations/${encodeURIComponent(args[0])}/approve`);
      out(`approved ${r.id}: ${r.status}`);
      return EXIT.ok;
    }
    case "run": {
      const [site, operation, ...pairs] = args;
      if (!site || !operation) throw new UsageError("run <site> <operation> [key=value...]");
      const accepted = await client.json("POST", `/v1/sites/${encodeURIComponent(site)}/operations`, {
        operation,
        params: parseParams(pairs),
      });
      out(
        `queued ${accepted.id}: ${accepted.plan?.summary ?? operation}${accepted.coalescedInto ? ` (rides on ${accepted.coalescedInto})` : ""}`,
      );
      const progress = new ProgressRenderer(out);
      for await (const e of followOperation(client, accepted.id)) progress.render(e);
      const final = await client.json("GET", `/v1/operations/${accepted.id}`);
      out(
        `${final.id} ${final.status}${final.revision?.to !== undefined && final.status === "succeeded" ? ` (config revision ${final.revision.to})` : ""}${final.reason ? `: ${final.reason}` : ""}`,
      );
      return final.status === "succeeded" ? EXIT.ok : EXIT.failed;
    }
    default:
      throw new UsageError(`unknown command "${cmd}"\n${USAGE}`);
  }
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof UsageError) {
      err(`stackyard: ${e.message}`);
      process.exit(EXIT.usage);
    }
    if (e instanceof CliHttpError) {
      err(`stackyard: refused (${e.status} ${e.code}): ${e.message}`);
      process.exit(EXIT.refused);
    }
    err(`stackyard: ${(e as Error).message}`);
    process.exit(EXIT.failed);
  },
);
