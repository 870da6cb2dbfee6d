// The rooms of src/ and which way their imports may point (docs/structure.md). `npm test` runs
// `depcruise src` before mocha; a violation fails the suite.
const OTHER_THAN = (...rooms) => `^src/(?!(?:${rooms.join("|")})/)[^/]+/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      severity: "error",
      comment: "No import cycle of runtime imports, at any size.",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-type-cycles-outside-the-site-registry",
      severity: "error",
      comment:
        "Type-only cycles neither: the one exception is programs/, where each site's definition names `SiteId`, the key type of the registry that lists it (a type, erased at run time).",
      from: { path: "^src/", pathNot: "^src/programs/" },
      to: { circular: true },
    },
    {
      name: "infra-and-errors-are-the-floor",
      severity: "error",
      comment: "infra/ (paths, Redis, keys, Lua, logging) and errors/ import no other room.",
      from: { path: "^src/(infra|errors)/" },
      to: { path: OTHER_THAN("infra", "errors") },
    },
    {
      name: "programs-import-no-service-room",
      severity: "error",
      comment: "Sites are pure Pulumi programs: no operations, queue, workers, engine, API or service code.",
      from: { path: "^src/programs/" },
      to: { path: OTHER_THAN("programs", "infra", "errors") },
    },
    {
      name: "engine-sits-above-programs-only",
      severity: "error",
      comment:
        "The engine drives programs; it knows nothing of operations, workers, the queue or the API (not even their types).",
      from: { path: "^src/engine/" },
      to: { path: OTHER_THAN("engine", "programs", "infra", "errors") },
    },
    {
      name: "sandbox-and-policy-sit-on-programs",
      severity: "error",
      comment:
        "Provider simulation and the policy pack read site definitions, nothing of the service above them.",
      from: { path: "^src/(sandbox|policy)/" },
      to: { path: OTHER_THAN("sandbox", "policy", "programs", "infra", "errors") },
    },
    {
      name: "coordination-is-redis-only",
      severity: "error",
      comment: "The stack lock is a Redis primitive: infra only.",
      from: { path: "^src/coordination/" },
      to: { path: OTHER_THAN("coordination", "infra", "errors") },
    },
    {
      name: "domain-knows-no-edge-queue-or-engine",
      severity: "error",
      comment:
        "operations/ and auth/ (the domain and its authorization model) know nothing of the API, the workers, the engine or the queue library.",
      from: { path: "^src/(operations|auth)/" },
      to: { path: OTHER_THAN("operations", "auth", "programs", "infra", "errors") },
    },
    {
      name: "domain-uses-no-http-or-queue-library",
      severity: "error",
      from: { path: "^src/(operations|auth|engine|programs|coordination|infra|errors)/" },
      to: { path: "node_modules/(@types/)?(express|bullmq|@bull-board|rate-limiter-flexible)/" },
    },
    {
      name: "workers-know-no-http",
      severity: "error",
      comment:
        "Workers run the job: domain, engine, policy, coordination; nothing of the API, its peers or Express.",
      from: { path: "^src/workers/" },
      to: {
        path: [
          OTHER_THAN(
            "workers",
            "operations",
            "auth",
            "engine",
            "policy",
            "programs",
            "coordination",
            "infra",
            "errors",
          ),
          "node_modules/(@types/)?(express|@bull-board)/",
        ],
      },
    },
    {
      name: "edge-rooms-do-not-reach-below-the-domain",
      severity: "error",
      comment:
        "The HTTP edge (api and its peers chatops, dashboard, metrics, schedules) calls the domain; it never drives workers, the engine or the service wiring.",
      from: { path: "^src/(api|chatops|dashboard|metrics|schedules)/" },
      to: { path: "^src/(workers|engine|coordination|service|cli|sandbox)/" },
    },
    {
      name: "one-router-composer",
      severity: "error",
      comment: "src/api/app.ts composes every router; no route file imports it.",
      from: { path: "^src/", pathNot: "^src/service/" },
      to: { path: "^src/api/app\\.ts$" },
    },
    {
      name: "only-the-composition-root-imports-service",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/service/" },
      to: { path: "^src/service/" },
    },
    {
      name: "cli-talks-http",
      severity: "error",
      comment:
        "The CLI is an HTTP client (and reads site definitions for help text): no workers, engine or service.",
      from: { path: "^src/cli/" },
      to: { path: "^src/(workers|engine|coordination|service|api|operations)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^dist/" },
  },
};
