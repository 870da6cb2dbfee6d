export * from "./guard-types";
export * from "./guard-settings";
export * from "./evaluate-guards";
export { costDelta } from "./cost-ceiling";
export { standbyReady, primaryIs } from "./standby-ready";
