import type * as grpc from "@grpc/grpc-js";
import { ChildProcess } from "node:child_process";
import * as path from "node:path";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as langproto from "@pulumi/pulumi/proto/language_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import { EXIT_ALREADY_REPORTED, ProgramRun, startProgram } from "./program-run";
import { pluginRunFrom, startPlugin } from "./plugin-run";

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

/** Reads the engine's RunRequest into the plain description the runner takes. */
export function programRunFrom(req: langproto.RunRequest, engineAddress: string): ProgramRun {
  const info = req.getInfo();
  const programDir = info?.getProgramDirectory() || req.getPwd();
  const entry = info?.getEntryPoint() || req.getProgram() || ".";
  return {
    organization: req.getOrganization(),
    project: req.getProject(),
    stack: req.getStack(),
    pwd: req.getPwd() || programDir,
    rootDirectory: info?.getRootDirectory() || programDir,
    program: path.resolve(programDir, entry),
    monitorAddress: req.getMonitorAddress(),
    engineAddress,
    dryRun: req.getDryrun(),
    parallel: req.getParallel(),
    config: Object.fromEntries(req.getConfigMap().entries()),
    configSecretKeys: req.getConfigsecretkeysList(),
  };
}

/**
 * The LanguageRuntime service for Node programs, as the engine uses it for `pulumi up` on a
 * Pulumi.yaml: it runs the program with the SDK's own runner in a child process. Plugins are
 * not predicted: the engine loads each provider when the program first registers one of its
 * resources, from the PULUMI_HOME it was given (never downloading; see docs/engine.md).
 */
export class LanguageService {
  private readonly running = new Set<ChildProcess>();

  constructor(
    private readonly engineAddress: string,
    private readonly version: string,
  ) {}

  handshake: Unary<langproto.LanguageHandshakeRequest, langproto.LanguageHandshakeResponse> = (_call, cb) =>
    cb(null, new langproto.LanguageHandshakeResponse());

  getPluginInfo: Unary<emptyproto.Empty, plugproto.PluginInfo> = (_call, cb) => {
    const info = new plugproto.PluginInfo();
    info.setVersion(this.version);
    cb(null, info);
  };

  getRequiredPlugins: Unary<langproto.GetRequiredPluginsRequest, langproto.GetRequiredPluginsResponse> = (
    _call,
    cb,
  ) => cb(null, new langproto.GetRequiredPluginsResponse());

  getRequiredPackages: Unary<langproto.GetRequiredPackagesRequest, langproto.GetRequiredPackagesResponse> = (
    _call,
    cb,
  ) => cb(null, new langproto.GetRequiredPackagesResponse());

  getProgramDependencies: Unary<
    langproto.GetProgramDependenciesRequest,
    langproto.GetProgramDependenciesResponse
  > = (_call, cb) => cb(null, new langproto.GetProgramDependenciesResponse());

  about: Unary<langproto.AboutRequest, langproto.AboutResponse> = (_call, cb) => {
    const about = new langproto.AboutResponse();
    about.setExecutable(process.execPath);
    about.setVersion(process.version);
    cb(null, about);
  };

  installDependencies = (
    call: grpc.ServerWritableStream<
      langproto.InstallDependenciesRequest,
      langproto.InstallDependenciesResponse
    >,
  ) => {
    // Dependencies come from the project's own `npm ci` (scripts/setup.sh), never from the engine.
    call.end();
  };

  /** Plugins written in Node, policy packs among them: run with the SDK's runner for their kind, output streamed back. */
  runPlugin = (call: grpc.ServerWritableStream<langproto.RunPluginRequest, langproto.RunPluginResponse>) => {
    const r = call.request;
    const send = (fill: (resp: langproto.RunPluginResponse) => void) => {
      const resp = new langproto.RunPluginResponse();
      fill(resp);
      call.write(resp);
    };
    let child: ChildProcess;
    try {
      child = startPlugin(pluginRunFrom(r));
    } catch (err) {
      send((resp) => resp.setStderr(Buffer.from(`could not start the plugin: ${(err as Error).message}\n`)));
      send((resp) => resp.setExitcode(1));
      call.end();
      return;
    }
    this.running.add(child);
    child.stdout?.on("data", (chunk: Buffer) => send((resp) => resp.setStdout(chunk)));
    child.stderr?.on("data", (chunk: Buffer) => send((resp) => resp.setStderr(chunk)));
    child.once("close", (code) => {
      this.running.delete(child);
      send((resp) => resp.setExitcode(code ?? 1));
      call.end();
    });
    call.on("cancelled", () => child.kill("SIGINT"));
  };

  cancel: Unary<emptyproto.Empty, emptyproto.Empty> = (_call, cb) => {
    for (const child of this.running) child.kill("SIGINT");
    cb(null, new emptyproto.Empty());
  };

  run: Unary<langproto.RunRequest, langproto.RunResponse> = (call, cb) => {
    let child: ChildProcess;
    try {
      child = startProgram(programRunFrom(call.request, this.engineAddress));
    } catch (err) {
      const resp = new langproto.RunResponse();
      resp.setError(`could not start the program: ${(err as Error).message}`);
      cb(null, resp);
      return;
    }
    this.running.add(child);
    child.once("error", (err) => {
      this.running.delete(child);
      const resp = new langproto.RunResponse();
      resp.setError(`could not start the program: ${err.message}`);
      cb(null, resp);
    });
    child.once("exit", (code, signal) => {
      this.running.delete(child);
      const resp = new langproto.RunResponse();
      if (code === EXIT_ALREADY_REPORTED) {
        resp.setBail(true);
      } else if (code !== 0) {
        resp.setError(`program exited with ${signal ? `signal ${signal}` : `code ${code}`}`);
      }
      cb(null, resp);
    });
  };
}
