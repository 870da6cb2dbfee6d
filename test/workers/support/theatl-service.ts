import type { SandboxCloud } from "../../../src/sandbox/sandbox-cloud";
import { ApiClient } from "./api-client";
import { deployBaseline, siteCloud } from "./baseline";
import { spawnService, type Deployment, type ServiceProcess } from "./service-harness";

export interface TheatlService {
  svc: ServiceProcess;
  /** The admin token's client (the requester). */
  api: ApiClient;
  /** A second principal's client, for operations that wait for approval. */
  approver: ApiClient;
  cloud: SandboxCloud;
}

/** theATL's first deployment, then one service process (API + workers) over it. */
export async function theatlService(d: Deployment): Promise<TheatlService> {
  await deployBaseline(d, "theatl");
  const svc = await spawnService(d, "all", "service");
  const base = `http://127.0.0.1:${svc.port}`;
  return {
    svc,
    api: new ApiClient(base, d.adminToken),
    approver: new ApiClient(base, d.approverToken),
    cloud: siteCloud(d, "theatl"),
  };
}
