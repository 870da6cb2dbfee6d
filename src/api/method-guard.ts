import type { NextFunction, Request, Response } from "express";
import { MethodNotAllowedError } from "../errors";

/** The paths of the contract and their methods (`{param}` matches one path segment). */
export type PathMethods = Record<string, Record<string, unknown>>;

interface KnownPath {
  pattern: RegExp;
  allow: string[];
}

/**
 * For paths the contract knows: OPTIONS answers 204 with every method of the path in `Allow`, and
 * a method the path does not have (TRACE, PUT, …) answers 405 with `Allow`, before authentication:
 * the contract is public, and a method that cannot succeed needs no token to be refused. Other
 * paths pass through (to their routes or to the 404).
 */
export function methodGuard(paths: PathMethods) {
  const known: KnownPath[] = Object.entries(paths).map(([p, methods]) => {
    const upper = Object.keys(methods).map((m) => m.toUpperCase());
    const allow = [...upper, ...(upper.includes("GET") ? ["HEAD"] : []), "OPTIONS"];
    const source = p.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\\\{[^}]+\\\}|\{[^}]+\}/g, "[^/]+");
    return { pattern: new RegExp(`^${source}/?$`), allow };
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const hit = known.find((k) => k.pattern.test(req.path));
    if (!hit) return next();
    if (req.method === "OPTIONS") return void res.status(204).set("Allow", hit.allow.join(", ")).end();
    if (hit.allow.includes(req.method)) return next();
    res.set("Allow", hit.allow.join(", "));
    next(new MethodNotAllowedError(req.method, req.path, hit.allow));
  };
}
