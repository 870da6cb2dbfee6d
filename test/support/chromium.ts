/** Debian's Chromium, which scripts/setup.sh installs for the browser tests. */
export const CHROMIUM = "/usr/bin/chromium";

/** Headless, and no network beyond loopback: without the background-networking flags Chromium reaches for it. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
