import Module from "node:module";
import * as path from "node:path";

/**
 * Imported first (for its effect) by the processes the engine starts on every run and that never
 * serialize a closure or drive the engine themselves: the sandbox's provider plugins and the policy
 * pack. The Node SDK's index loads, eagerly, its closure serializer (which loads TypeScript, npm's
 * arborist, pacote, tar, …) and its Automation API. In those processes that was half the start-up
 * time and 65 MB of each one's memory (docs/benchmarks.md, "Process start-up"), paid twice per
 * operation (preview and up) by every plugin and the pack.
 *
 * Here those modules load on first use instead of at start-up: the serializer's functions load
 * their module when first called, the `automation` namespace when a member is first read. Nothing
 * is removed; a process that does use them gets the real modules.
 */

/** The SDK modules deferred, by the module that requires them. */
const DEFERRED = [
  {
    parent: path.join("@pulumi", "pulumi", "runtime", "index.js"),
    request: "./closure/serializeClosure",
    shape: "functions",
  },
  {
    parent: path.join("@pulumi", "pulumi", "runtime", "index.js"),
    request: "./closure/codePaths",
    shape: "functions",
  },
  { parent: path.join("@pulumi", "pulumi", "index.js"), request: "./automation", shape: "namespace" },
] as const;

type Loader = (request: string, parent: NodeModule | undefined, isMain: boolean) => unknown;
type Shape = (typeof DEFERRED)[number]["shape"];

const moduleInternals = Module as unknown as { _load: Loader; __stackyardDeferred?: true };

/**
 * A stand-in whose first use loads the module. `functions`: every export read at load time is a
 * function (the runtime index copies `serializeFunction` and friends onto itself), so each read
 * gives a forwarder. `namespace`: the SDK index keeps the namespace object (`__importStar` sees
 * `__esModule` and keeps it as is), so reads go to the real module once it is needed.
 */
function deferred(shape: Shape, load: () => Record<PropertyKey, unknown>): object {
  if (shape === "functions") {
    return new Proxy(
      {},
      {
        get: (_, name) =>
          name === "__esModule"
            ? true
            : (...args: unknown[]) => (load()[name] as (...a: unknown[]) => unknown)(...args),
      },
    );
  }
  return new Proxy(
    {},
    {
      get: (_, name) => (name === "__esModule" ? true : Reflect.get(load(), name)),
      has: (_, name) => Reflect.has(load(), name),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, name) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), name);
        return d && { ...d, configurable: true };
      },
    },
  );
}

function install(): void {
  if (moduleInternals.__stackyardDeferred) return;
  moduleInternals.__stackyardDeferred = true;
  const load = moduleInternals._load;
  moduleInternals._load = function (this: unknown, request, parent, isMain) {
    const hit = parent && DEFERRED.find((d) => d.request === request && parent.filename.endsWith(d.parent));
    if (!hit) return load.call(this, request, parent, isMain);
    let real: Record<PropertyKey, unknown> | undefined;
    return deferred(
      hit.shape,
      () => (real ??= load.call(this, request, parent, isMain) as Record<PropertyKey, unknown>),
    );
  };
}

install();
