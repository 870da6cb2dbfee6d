// Laptop entry point (`main` in Pulumi.yaml): `pulumi preview -s theatl` runs the same PulumiFn the
// service runs inline, against the same stacks/Pulumi.theatl.yaml. The runtime calls an exported
// function and publishes what it resolves to as the stack outputs. From a laptop the program first
// refuses a stack file older than what the service deployed (docs/operations.md, "Laptop guard").
import { programFromStackConfig } from "./program";

export = programFromStackConfig({ guardRevision: true });
