import type { NextFunction, Request, Response } from "express";
import { ForbiddenError, UnauthenticatedError } from "../errors";
import { allows, findToken, type Principal, type Scope, type TokenEntry } from "../auth/tokens";

declare module "express-serve-static-core" {
  interface Request {
    principal?: Principal;
  }
}

/** Resolves `Authorization: Bearer <token>` (never a query parameter) into `req.principal`. */
export function authenticate(tokens: readonly TokenEntry[]) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const header = req.headers.authorization;
    const m = header ? /^Bearer ([A-Za-z0-9._~+/=-]{8,512})$/.exec(header) : null;
    if (!m)
      return next(
        new UnauthenticatedError(
          header ? "malformed Authorization header; expected `Bearer <token>`" : undefined,
        ),
      );
    const principal = findToken(tokens, m[1]!);
    if (!principal) return next(new UnauthenticatedError("unknown token"));
    req.principal = principal;
    next();
  };
}

/** Throws 403 unless the caller holds `scope` for `site` (and `operation`). */
export function authorize(req: Request, scope: Scope, site?: string, operation?: string): Principal {
  const p = req.principal;
  if (!p) throw new UnauthenticatedError();
  if (!allows(p, scope, site, operation)) throw new ForbiddenError(p.tokenId, { scope, site, operation });
  return p;
}
