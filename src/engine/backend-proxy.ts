import { startS3SigningProxy, type S3SigningProxy } from "../infra/s3-signing-proxy";
import { proxiedBackendUrl, type StateBackend } from "./state-backend";

type S3Backend = Extract<StateBackend, { kind: "s3" }>;

/** One proxy per bucket and key pair for the life of the process, started on first use. */
const proxies = new Map<string, Promise<S3SigningProxy>>();

/**
 * The signing proxy of an s3:// backend, in this process: the engine reaches the bucket through it
 * anonymously, and the backend's key pair never leaves this process (docs/engine.md).
 */
export function backendProxy(backend: S3Backend): Promise<S3SigningProxy> {
  const id = `${backend.url}\n${backend.credentials.accessKeyId}`;
  let proxy = proxies.get(id);
  if (!proxy) {
    proxy = startS3SigningProxy({
      target: {
        bucket: backend.bucket,
        endpoint: backend.endpoint,
        region: backend.region,
        pathStyle: backend.pathStyle,
        credentials: backend.credentials,
      },
      prefix: backend.prefix,
    });
    proxies.set(id, proxy);
    proxy.catch(() => proxies.delete(id));
  }
  return proxy;
}

/** The PULUMI_BACKEND_URL an engine run of this process gets: an s3:// backend's goes through the proxy. */
export async function engineBackendUrl(backend: StateBackend): Promise<string> {
  if (backend.kind !== "s3") return backend.url;
  return proxiedBackendUrl(backend, (await backendProxy(backend)).endpoint);
}

/** Stops every proxy this process started (tests; the service's proxies end with the process). */
export async function closeBackendProxies(): Promise<void> {
  const all = [...proxies.values()];
  proxies.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
}
