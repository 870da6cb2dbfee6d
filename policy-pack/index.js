// The policy pack is written in TypeScript under src/policy/ and compiled to dist/ with the rest.
require("../dist/src/policy/pack").createPolicyPack();
