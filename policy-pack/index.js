// The policy pack is written in TypeScript under src/policy/ and compiled to dist/ with the rest.
// First: the SDK modules the pack never uses load on first use, not at start-up
// (src/infra/defer-sdk-closure.ts).
require("../dist/src/infra/defer-sdk-closure");
require("../dist/src/policy/pack").createPolicyPack();
