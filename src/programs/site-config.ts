// The contract other modules import: the typed, validated stack config and the stack file loader.
export * from "./config/index";
export {
  loadStackFile,
  readStackFileText,
  readStackyardConfig,
  stackyardConfigOf,
  type RawStackyardConfig,
} from "./config/stack-file";
export { sidekiqOutputs, sidekiqPoolCount, MASTODON_QUEUES } from "./config/sidekiq";
export { nodeRoles, type NodeRole } from "./config/db-topology";
export type { External, Env } from "./config/common";
