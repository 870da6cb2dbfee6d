/**
 * What smithwicks is given at first boot to follow the compose file the program publishes
 * (src/programs/compose-sync.ts): Mastodon's compose project in /opt/mastodon, whose secrets are
 * the operator-held `.env.production`, pulled from Linode Object Storage.
 */
export { DEPLOY_KEY_FILE, PULL_SCRIPT, SYNC_SERVICE, SYNC_TIMER } from "../compose-sync";

/** Where the host keeps the compose project (the seed's Mastodon checkout). */
export const COMPOSE_DIR = "/opt/mastodon";
/** Mastodon's secrets (SECRET_KEY_BASE, DB_PASS, ...): operator-held, never rendered by the program. */
export const MASTODON_ENV_FILE = ".env.production";

/** Linode's S3 region for an Object Storage region ("us-east" is served as cluster us-east-1). */
export function s3RegionOf(linodeRegion: string): string {
  return /-\d+$/.test(linodeRegion) ? linodeRegion : `${linodeRegion}-1`;
}
