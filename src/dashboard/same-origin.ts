import type { NextFunction, Request, Response } from "express";

/**
 * Whether a state-changing dashboard request (log in, log out) comes from a page this server
 * served: its Origin (or, when a browser sends none, its Referer) must name the host the request
 * was sent to, over the scheme the dashboard is served on. A form on another site posting here
 * (login CSRF: logging a victim into the attacker's session; forced logout) carries that site's
 * origin and is refused; so is a request that names no origin at all. The dashboard pages send
 * `Referrer-Policy: same-origin`, so browsers send a real Origin on their own forms.
 */
export function fromServedOrigin(req: Request, secure: boolean): boolean {
  const claimed = req.header("origin") ?? req.header("referer");
  if (!claimed || claimed === "null") return false;
  let url: URL;
  try {
    url = new URL(claimed);
  } catch {
    return false;
  }
  const host = req.header("host");
  return !!host && url.host === host.toLowerCase() && url.protocol === (secure ? "https:" : "http:");
}

/** Express guard for the dashboard's POST forms: 403 (an HTML page) unless fromServedOrigin. */
export function requireServedOrigin(secure: boolean, refuse: (res: Response) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (fromServedOrigin(req, secure)) return next();
    refuse(res);
  };
}
