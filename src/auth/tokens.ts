import { createHash, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { OPERATION_KINDS } from "../operations/registry";

export const SCOPES = [
  "operations:write",
  "operations:read",
  "operations:cancel",
  "operations:approve",
  "sites:read",
  "metrics:read",
] as const;
export type Scope = (typeof SCOPES)[number];

/** One configured token: only its SHA-256 is ever stored (STACKYARD_TOKENS). */
export const tokenEntrySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits"),
  sites: z.array(z.string().min(1)).min(1),
  operations: z.array(z.union([z.enum(OPERATION_KINDS), z.literal("*")])).default(["*"]),
  scopes: z.array(z.enum(SCOPES)).min(1),
});
export type TokenEntry = z.infer<typeof tokenEntrySchema>;
export const tokenListSchema = z.array(tokenEntrySchema).superRefine((list, ctx) => {
  const ids = new Set<string>();
  list.forEach((t, i) => {
    if (ids.has(t.id))
      ctx.addIssue({ code: "custom", path: [i, "id"], message: `duplicate token id ${t.id}` });
    ids.add(t.id);
  });
});

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Who is calling, as resolved from a bearer token. */
export interface Principal {
  tokenId: string;
  sites: string[];
  operations: string[];
  scopes: Scope[];
}

/** Looks a presented token up by hash, comparing every entry in constant time. */
export function findToken(tokens: readonly TokenEntry[], presented: string): Principal | undefined {
  const digest = Buffer.from(hashToken(presented), "hex");
  let found: TokenEntry | undefined;
  for (const t of tokens) {
    if (timingSafeEqual(digest, Buffer.from(t.sha256, "hex"))) found = t;
  }
  return (
    found && { tokenId: found.id, sites: found.sites, operations: found.operations, scopes: found.scopes }
  );
}

export function allows(p: Principal, scope: Scope, site?: string, operation?: string): boolean {
  if (!p.scopes.includes(scope)) return false;
  if (site !== undefined && !p.sites.includes("*") && !p.sites.includes(site)) return false;
  if (operation !== undefined && !p.operations.includes("*") && !p.operations.includes(operation))
    return false;
  return true;
}
