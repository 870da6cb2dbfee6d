export * from "./error-codes";
export * from "./app-error";
export * from "./request-errors";
export * from "./domain-errors";
export * from "./approval-errors";
