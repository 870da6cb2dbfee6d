import * as path from "node:path";
import * as provider from "@pulumi/pulumi/provider";
import { appendCall } from "./call-log";
import { CloudStore } from "./cloud-store";
import { ALL_AMBIENT_CREDENTIAL_ENV } from "../programs/credentials/clouds";
import { configFailures, credentialKeys, environmentProblems } from "./mode-guard";
import { Props, UNKNOWN, reveal, sameValue } from "./property-values";
import { packageSpecs } from "./resource-specs";
import { SandboxProvider } from "./sandbox-provider";
import { credentialFingerprint } from "./credential-fingerprint";

// Serves one simulated package over gRPC with the SDK's provider server. That server answers
// CheckConfig/DiffConfig with UNIMPLEMENTED and ignores Configure's variables, but the sandbox
// needs all three: to accept typical provider config (a kubeconfig, an AWS region and default
// tags), to know it, and to refuse config that belongs to a real cloud. So the service
// implementation is wrapped at registration, using the same grpc-js instance as the SDK.

type Callback = (err: unknown, value?: unknown) => void;
type Handler = (call: { request: any }, callback: Callback) => void;

const sdkDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const grpc = require(require.resolve("@grpc/grpc-js", { paths: [sdkDir] })) as typeof import("@grpc/grpc-js");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const structproto = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkDir] }),
);

export async function servePackage(pkg: string, args: string[]): Promise<void> {
  const store = CloudStore.fromEnv();
  const impl = new SandboxProvider(packageSpecs(pkg), store);
  hookConfigMethods(pkg, impl, store);
  await provider.main(impl, args);
}

function hookConfigMethods(pkg: string, impl: SandboxProvider, store: CloudStore): void {
  const original = grpc.Server.prototype.addService;
  grpc.Server.prototype.addService = function (service: any, implementation: any) {
    const wrapped = {
      ...implementation,
      checkConfig,
      diffConfig,
      configure: configure(implementation.configure.bind(implementation)),
      read: readWithProperties(implementation.read.bind(implementation)),
    };
    // Keep the server's own methods bound to it (they use `this`).
    for (const k of Object.keys(service))
      if (!(k in wrapped) && implementation[k]) wrapped[k] = implementation[k].bind(implementation);
    for (const k of Object.getOwnPropertyNames(Object.getPrototypeOf(implementation))) {
      if (
        k !== "constructor" &&
        typeof implementation[k] === "function" &&
        !["checkConfig", "diffConfig", "configure", "read"].includes(k)
      )
        wrapped[k] = implementation[k].bind(implementation);
    }
    return original.call(this, service, wrapped);
  };

  const checkConfig: Handler = (call, callback) => {
    const news = call.request.getNews()?.toJavaScript() ?? {};
    const problems = [
      ...environmentProblems(process.env).map((reason) => ({ property: "environment", reason })),
      ...configFailures(pkg, news),
    ];
    const resp = new provproto.CheckResponse();
    resp.setInputs(call.request.getNews());
    resp.setFailuresList(
      problems.map((p) => {
        const f = new provproto.CheckFailure();
        f.setProperty(p.property);
        f.setReason(p.reason);
        return f;
      }),
    );
    callback(null, resp);
  };

  const diffConfig: Handler = (call, callback) => {
    const req = call.request;
    const olds: Props = (req.getOldInputs() ?? req.getOlds())?.toJavaScript() ?? {};
    const news: Props = req.getNews()?.toJavaScript() ?? {};
    const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
    const diffs = [...keys].filter((k) => !sameValue(olds[k], news[k]));
    const resp = new provproto.DiffResponse();
    // Config changes update the provider in place; no simulated resource needs replacing for them.
    resp.setChanges(
      diffs.length > 0
        ? provproto.DiffResponse.DiffChanges.DIFF_SOME
        : provproto.DiffResponse.DiffChanges.DIFF_NONE,
    );
    resp.setDiffsList(diffs);
    callback(null, resp);
  };

  const configure =
    (delegate: Handler): Handler =>
    (call, callback) => {
      const config = configFromRequest(call.request);
      const problems = [
        ...environmentProblems(process.env),
        ...configFailures(pkg, config).map((f) => `${f.property}: ${f.reason}`),
      ];
      impl.credentials = credentialsOf(pkg, config);
      appendCall(store.dir, {
        package: pkg,
        method: "configure",
        phase: problems.length ? "error" : "end",
        ...(impl.credentials ? { credentials: impl.credentials } : {}),
        ambient: ALL_AMBIENT_CREDENTIAL_ENV.filter((name) => (process.env[name] ?? "") !== ""),
        ...(problems.length ? { message: problems.join("; ") } : {}),
      });
      if (problems.length > 0) {
        callback({
          code: grpc.status.FAILED_PRECONDITION,
          details: `sandbox ${pkg} provider refused: ${problems.join("; ")}`,
        });
        return;
      }
      impl.config = config;
      delegate(call, callback);
    };
}

/** Digests of the credential fields the provider was configured with, or undefined when it has none. */
function credentialsOf(pkg: string, config: Props): Record<string, string> | undefined {
  const plain = reveal(config) as Props;
  const out: Record<string, string> = {};
  for (const key of credentialKeys(pkg)) {
    const v = plain[key];
    if (typeof v === "string" && v !== "" && v !== UNKNOWN) out[key] = credentialFingerprint(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** An import's Read carries no properties; the SDK server would dereference them, so give it an empty bag. */
function readWithProperties(delegate: Handler): Handler {
  return (call, callback) => {
    if (!call.request.getProperties()) call.request.setProperties(new structproto.Struct());
    delegate(call, callback);
  };
}

/** Provider config from Configure: the structured args when sent, else the legacy `pkg:config:key` variables. */
function configFromRequest(req: any): Props {
  if (req.hasArgs?.() && req.getArgs()) return req.getArgs().toJavaScript() as Props;
  const out: Props = {};
  for (const [k, v] of req.getVariablesMap().entries() as Iterable<[string, string]>) {
    const key = k.split(":").pop() ?? k;
    try {
      out[key] = JSON.parse(v);
    } catch {
      out[key] = v;
    }
  }
  return out;
}
