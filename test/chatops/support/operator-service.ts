import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as net from "node:net";
import { hashToken, type TokenEntry } from "../../../src/auth/tokens";
import { ApiClient } from "../../workers/support/api-client";
import { deployBaseline } from "../../workers/support/baseline";
import {
  createDeployment,
  spawnService,
  type Deployment,
  type ServiceProcess,
} from "../../workers/support/service-harness";

/** Tokens of the operator-view deployment, by role. */
export type Role = "admin" | "reader" | "metrics" | "approver" | "lead";

/**
 * One real service (`main.js --role=all`: API, workers, schedule worker) on a private Redis, with
 * theATL deployed in the sandbox and vulpine present but never deployed (refusals only). Shared by
 * every operator-view test file because each engine run costs seconds: the first caller starts it,
 * the root `after` below stops it, even when a test failed.
 */
export interface OperatorService {
  d: Deployment;
  svc: ServiceProcess;
  base: string;
  tokens: Record<Role, string>;
  slackSecret: string;
  webhookSecret: string;
  passphrase: string;
  /** The one loopback port the service may post chat replies to (a reply catcher listens there). */
  replyPort: number;
  /** Where the service's Slack Web API base URL points (a fake Web API listens there when a test needs it). */
  slackApiPort: number;
  /** The bot token the service sends to that Web API (never logged). */
  slackBotToken: string;
  api(role?: Role): ApiClient;
  /** An operation that succeeded on theatl (runs one the first time it is asked for). */
  finishedOperation(): Promise<any>;
}

export const SLACK_TEAM = "T0STACKY";
export const SLACK_OPERATOR = "U0OPERATOR";
export const SLACK_VIEWER = "U0VIEWER";
export const SLACK_APPROVER = "U0APPROVER";

let shared: Promise<OperatorService> | undefined;

export function operatorService(): Promise<OperatorService> {
  shared ??= start();
  return shared;
}

after(async function () {
  this.timeout(120_000);
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  await s?.svc.stop().catch(() => undefined);
  await s?.d.cleanup();
});

async function start(): Promise<OperatorService> {
  const tokens: Record<Role, string> = {
    admin: `svc_${randomBytes(32).toString("base64url")}`,
    reader: `svc_${randomBytes(32).toString("base64url")}`,
    metrics: `svc_${randomBytes(32).toString("base64url")}`,
    approver: `svc_${randomBytes(32).toString("base64url")}`,
    lead: `svc_${randomBytes(32).toString("base64url")}`,
  };
  const entries: TokenEntry[] = [
    {
      id: "admin",
      sha256: hashToken(tokens.admin),
      sites: ["*"],
      operations: ["*"],
      scopes: ["operations:write", "operations:read", "operations:cancel", "sites:read"],
    },
    {
      id: "reader",
      sha256: hashToken(tokens.reader),
      sites: ["*"],
      operations: ["*"],
      scopes: ["operations:read", "sites:read"],
    },
    {
      id: "prometheus",
      sha256: hashToken(tokens.metrics),
      sites: ["*"],
      operations: ["*"],
      scopes: ["metrics:read"],
    },
    {
      id: "approver",
      sha256: hashToken(tokens.approver),
      sites: ["*"],
      operations: ["*"],
      scopes: ["operations:approve", "operations:read", "sites:read"],
    },
    {
      // Requests and may approve, so the four-eyes rule (not a missing scope) is what refuses its own approval.
      id: "lead",
      sha256: hashToken(tokens.lead),
      sites: ["*"],
      operations: ["*"],
      scopes: ["operations:write", "operations:approve", "operations:read", "sites:read"],
    },
  ];
  const slackSecret = randomBytes(16).toString("hex");
  const webhookSecret = randomBytes(24).toString("hex");
  const passphrase = "stackyard-sandbox-passphrase"; // the baseline helper deploys with the sandbox default
  const users = {
    [`slack:${SLACK_TEAM}:${SLACK_OPERATOR}`]: {
      principal: "slack-operator",
      sites: ["theatl"],
      operations: ["*"],
      scopes: ["operations:write", "operations:read", "operations:approve", "sites:read"],
    },
    [`slack:${SLACK_TEAM}:${SLACK_APPROVER}`]: {
      principal: "slack-approver",
      sites: ["theatl"],
      operations: ["*"],
      scopes: ["operations:approve", "operations:read", "sites:read"],
    },
    [`slack:${SLACK_TEAM}:${SLACK_VIEWER}`]: {
      principal: "slack-viewer",
      sites: ["theatl"],
      scopes: ["sites:read", "operations:read"],
    },
    "hook:mattermost/alice": {
      principal: "mm-alice",
      sites: ["theatl"],
      scopes: ["sites:read", "operations:read"],
    },
  };
  const replyPort = await freePort();
  const slackApiPort = await freePort();
  const slackBotToken = `xoxb-${randomBytes(24).toString("hex")}`;
  const d = await createDeployment("operator-view", ["theatl", "vulpine"], {
    STACKYARD_SANDBOX_REPLY_PORTS: String(replyPort),
    STACKYARD_TOKENS: JSON.stringify(entries),
    STACKYARD_SLACK_SIGNING_SECRET: slackSecret,
    STACKYARD_WEBHOOK_SECRET: webhookSecret,
    STACKYARD_SLACK_USERS: JSON.stringify(users),
    STACKYARD_SLACK_BOT_TOKEN: slackBotToken,
    STACKYARD_SLACK_API_URL: `http://127.0.0.1:${slackApiPort}/api`,
    STACKYARD_SCHEDULE_MIN_INTERVAL_SECONDS: "1",
    PULUMI_CONFIG_PASSPHRASE: passphrase,
    STACKYARD_LOG_LEVEL: "debug",
  });
  let svc: ServiceProcess | undefined;
  try {
    await deployBaseline(d, "theatl");
    // add-read-replica waits for approval here too, so the approval tests need not spend the one standby a failover uses.
    const guards = path.join(d.dir, "guards.json");
    fs.writeFileSync(guards, JSON.stringify({ theatl: { approvalKinds: ["failover", "add-read-replica"] } }));
    svc = await spawnService(d, "all", "service", { STACKYARD_GUARDS_FILE: guards });
  } catch (err) {
    await svc?.stop().catch(() => undefined);
    await d.cleanup();
    throw err;
  }
  const base = `http://127.0.0.1:${svc.port}`;
  let finished: Promise<any> | undefined;
  const s: OperatorService = {
    d,
    svc,
    base,
    tokens,
    slackSecret,
    webhookSecret,
    passphrase,
    replyPort,
    slackApiPort,
    slackBotToken,
    api: (role = "admin") => new ApiClient(base, tokens[role]),
    finishedOperation: () => {
      finished ??= (async () => {
        const hist = await s.api().get("/v1/sites/theatl/operations?limit=50");
        const done = hist.body.operations.find((o: any) => o.status === "succeeded" && !o.coalescedInto);
        return done ?? s.api().run("theatl", "scale-sidekiq", { count: 3 });
      })();
      return finished;
    },
  };
  return s;
}

/** A loopback port nothing listens on right now (the OS picks it; the listener is closed at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
