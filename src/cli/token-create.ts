import { parseArgs } from "node:util";
import { z } from "zod";
import { newTokenEntry } from "../auth/local-admin-token";
import { SCOPES } from "../auth/tokens";

const FLAG_OF: Record<string, string> = {
  id: "--id",
  sites: "--sites",
  scopes: "--scopes",
  operations: "--operations",
};
const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);

/**
 * `stackyard token create --id ops-alice --sites theatl --scopes operations:read,operations:write`:
 * a new token, shown once, and the STACKYARD_TOKENS entry (its SHA-256 only) for live mode. The
 * entry passes the same schema the service loads the list with; a bad value names its flag.
 */
export function tokenCreate(argv: string[]): { ok: true; text: string } | { ok: false; message: string } {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        id: { type: "string" },
        sites: { type: "string" },
        scopes: { type: "string" },
        operations: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }) as { values: Record<string, string | undefined> });
  } catch (err) {
    return { ok: false, message: `token create: ${(err as Error).message}` };
  }
  for (const f of ["id", "sites", "scopes"] as const)
    if (!values[f])
      return { ok: false, message: `token create: ${FLAG_OF[f]} is required (scopes: ${SCOPES.join(", ")})` };
  try {
    const { token, entry } = newTokenEntry({
      id: values.id!,
      sites: list(values.sites)!,
      scopes: list(values.scopes)!,
      operations: list(values.operations),
    });
    return {
      ok: true,
      text: [
        `token:  ${token}`,
        "        (shown once; stackyard keeps only its SHA-256)",
        "STACKYARD_TOKENS entry (add it to the list; the service reads the list at start):",
        JSON.stringify(entry),
      ].join("\n"),
    };
  } catch (err) {
    if (!(err instanceof z.ZodError)) throw err;
    const i = err.issues[0]!;
    return {
      ok: false,
      message: `token create: ${FLAG_OF[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`,
    };
  }
}
