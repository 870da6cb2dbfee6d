import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../../src/infra/paths";
import * as net from "node:net";
import { S3Client } from "../../src/infra/s3-client";
import { tempDir } from "./temp-dir";

/** The SeaweedFS version scripts/provision-s3.sh builds (pinned in scripts/s3-module/go.mod). */
function pinnedVersion(): string {
  const mod = fs.readFileSync(path.join(projectRoot, "scripts", "s3-module", "go.mod"), "utf8");
  const m = /^require github\.com\/seaweedfs\/seaweedfs (\S+)$/m.exec(mod);
  if (!m) throw new Error("scripts/s3-module/go.mod pins no seaweedfs version");
  return m[1]!;
}

/** Where scripts/provision-s3.sh (run by `npm test` through scripts/setup.sh) put `weed`. */
export function weedBinary(): string {
  const home = process.env.STACKYARD_S3_HOME ?? path.join(os.homedir(), ".stackyard", "s3");
  const bin = path.join(home, pinnedVersion(), "bin", "weed");
  if (!fs.existsSync(bin))
    throw new Error(
      `${bin} is missing: run scripts/provision-s3.sh (scripts/setup.sh does with STACKYARD_SETUP_S3=1)`,
    );
  return bin;
}

/** A real S3-compatible server (SeaweedFS: master, volume, filer and S3 gateway) on loopback. */
export interface S3Server {
  /** `http://127.0.0.1:<port>`, the S3 gateway. */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A client for one of its buckets (signed with the server's key pair). */
  client(bucket: string): S3Client;
  /** An s3:// backend URL for a bucket of this server, path-style, as PULUMI_BACKEND_URL. */
  backendUrl(bucket: string): string;
  stop(): Promise<void>;
}

/**
 * A free loopback port under the kernel's ephemeral range (32768 and up): weed's components dial
 * each other a lot, and an outgoing connection may take a port from that range before the
 * component meant to listen on it starts.
 */
async function portBelowEphemeral(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** Starts the server, again on other ports if one was taken meanwhile (up to three times). */
export async function startS3Server(prefix: string): Promise<S3Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(prefix);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

/**
 * Starts `weed server -s3` in a temp folder with one admin identity whose keys are made here, on
 * free loopback ports, and waits until the gateway answers a signed bucket listing.
 */
async function startOnce(prefix: string): Promise<S3Server> {
  const tmp = tempDir(prefix);
  const accessKeyId = `stackyard${randomBytes(6).toString("hex")}`;
  const secretAccessKey = randomBytes(24).toString("hex");
  const region = "us-east-1";
  const config = path.join(tmp.dir, "s3.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
      identities: [
        {
          name: "stackyard",
          credentials: [{ accessKey: accessKeyId, secretKey: secretAccessKey }],
          actions: ["Admin", "Read", "Write", "List", "Tagging"],
        },
      ],
    }),
    { mode: 0o600 },
  );
  const data = path.join(tmp.dir, "data");
  fs.mkdirSync(data);
  const ports: Record<string, number> = {};
  for (const name of [
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
  ])
    ports[name] = await portBelowEphemeral(Object.values(ports));
  const args = [
    "server",
    "-ip=127.0.0.1",
    "-ip.bind=127.0.0.1",
    `-dir=${data}`,
    "-volume.max=64",
    "-master.volumeSizeLimitMB=16",
    "-master.telemetry=false",
    "-filer",
    "-s3",
    `-s3.config=${config}`,
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    `-filer.localSocket=${path.join(tmp.dir, "filer.sock")}`,
    `-s3.localSocket=${path.join(tmp.dir, "s3.sock")}`,
    ...Object.entries(ports).map(([k, v]) => `-${k}=${v}`),
  ];
  // `weed server` also serves each gRPC port on a fixed-name socket in /tmp; ours go with the server.
  const sockets = ["master", "volume", "filer", "s3"].map(
    (name) => `/tmp/seaweedfs-${name}-grpc-${ports[`${name}.port.grpc`]}.sock`,
  );
  const removeSockets = () => sockets.forEach((f) => fs.rmSync(f, { force: true }));
  removeSockets();
  const log = fs.openSync(path.join(tmp.dir, "weed.log"), "a");
  const child: ChildProcess = spawn(weedBinary(), args, { cwd: tmp.dir, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  const killOnExit = () => {
    child.kill("SIGKILL");
    removeSockets();
  };
  process.once("exit", killOnExit);
  const endpoint = `http://127.0.0.1:${ports["s3.port"]}`;
  const client = (bucket: string) =>
    new S3Client({
      bucket,
      endpoint,
      region,
      pathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
    });
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    removeSockets();
    tmp.remove();
  };
  // The gateway answers once master, volume and filer are up; a write needs a writable volume too.
  const probe = client(`probe-${randomBytes(3).toString("hex")}`);
  const deadline = Date.now() + 120_000;
  let last: unknown;
  for (;;) {
    if (child.exitCode !== null) {
      const tail = fs.readFileSync(path.join(tmp.dir, "weed.log"), "utf8").slice(-2000);
      await stop();
      throw new Error(`weed server exited (${child.exitCode}) before it served S3:\n${tail}`);
    }
    try {
      await probe.createBucket();
      await probe.putObject("ready", "ok");
      if ((await probe.getObject("ready"))?.toString() === "ok") break;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`weed server did not serve S3 within 120 s: ${String(last)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    endpoint,
    region,
    accessKeyId,
    secretAccessKey,
    client,
    backendUrl: (bucket) =>
      `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&s3ForcePathStyle=true&region=${region}`,
    stop,
  };
}
