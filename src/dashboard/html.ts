/** Escapes text for HTML element content and quoted attributes: everything shown comes from requests and the ledger. */
export function esc(v: unknown): string {
  return String(v ?? "").replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;font-size:.9rem}
.succeeded{color:#176b2c}.failed{color:#a01818}.cancelled{color:#777}.running{color:#1c4fa0}.queued{color:#8a6d00}
nav a{margin-right:1rem}code{font-size:.85rem}
</style></head><body>${body}</body></html>`;
}

/** The dashboard's own pages load nothing from elsewhere and run no script. */
export const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-store",
};

/** The operation page runs one script, from this server only, and opens its event stream here. */
export const SCRIPT_PAGE_HEADERS = {
  ...PAGE_HEADERS,
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The bar on top of every page behind the login. */
export function nav(tokenId: string, queues: boolean): string {
  return `<nav><strong>stackyard</strong> <a href="/dashboard">operations</a> <a href="/dashboard/approvals">approvals</a>${queues ? ` <a href="/dashboard/queues">queues</a>` : ""}
<form method="post" action="/dashboard/logout" style="display:inline"><button type="submit">Log out ${esc(tokenId)}</button></form></nav>`;
}
